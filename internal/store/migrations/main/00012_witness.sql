-- +goose Up
-- Cosignatures of the lookup log's checkpoints by independent witnesses
-- (c2sp.org/tlog-witness, Rule AA-16): one row per witness and checkpoint
-- size; cosignature holds the witness's note signature line(s). The largest
-- size per witness is the old size of the next add-checkpoint request.
CREATE TABLE witness_cosignatures (
    witness     TEXT NOT NULL,   -- the witness's verifier key (vkey)
    size        BIGINT NOT NULL, -- the cosigned checkpoint's size
    cosignature TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (witness, size)
);
CREATE INDEX witness_cosignatures_size ON witness_cosignatures (size);

-- +goose Down
DROP TABLE witness_cosignatures;
