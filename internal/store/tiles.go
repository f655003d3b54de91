package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pressly/goose/v3"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"

	"deling/internal/audit"
)

// The lookup log's tree is stored as C2SP tlog-tiles (https://c2sp.org/tlog-tiles):
// a tile at level L and index N holds the hashes of tree level 8·L, indices
// 256·N to 256·N+255, as one row of up to 8 KiB; the tile on the tree's right
// edge is partial and rewritten by each integration until it is full. The
// levels in between are recomputed from the tile below them when a proof
// needs them. Tiles are what GET /audit/tile/… serves.

// tileRow is the width of a full tile in bytes.
const tileRow = audit.TileWidth * 32

type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// readTile is the stored tile at level, index: its hashes joined (a partial
// tile is shorter); nil when none is stored.
func readTile(ctx context.Context, q querier, level uint, index uint64) ([]byte, error) {
	var b []byte
	err := q.QueryRowContext(ctx, `SELECT hashes FROM log_tiles WHERE level = $1 AND idx = $2`, int(level), int64(index)).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("tile %d/%d: %w", level, index, err)
	}
	return b, nil
}

// appendTileHashes adds hashes to tile level at tree level 8·level, the first
// at index start: the partial tile there is read and rewritten, full tiles
// after it written whole.
func (db *DB) appendTileHashes(ctx context.Context, tx *sql.Tx, level uint, start uint64, hashes [][]byte) error {
	if len(hashes) == 0 {
		return nil
	}
	first := start / audit.TileWidth
	buf := make([]byte, 0, int(start%audit.TileWidth+uint64(len(hashes)))*32)
	if start%audit.TileWidth != 0 {
		old, err := readTile(ctx, tx, level, first)
		if err != nil {
			return err
		}
		if want := int(start%audit.TileWidth) * 32; len(old) != want {
			return fmt.Errorf("tile %d/%d holds %d bytes where the tree wants %d", level, first, len(old), want)
		}
		buf = append(buf, old...)
	}
	for _, h := range hashes {
		buf = append(buf, h...)
	}
	n := (len(buf) + tileRow - 1) / tileRow
	_, err := db.execBatch(ctx, tx, `INSERT INTO log_tiles (level, idx, hashes) VALUES `,
		` ON CONFLICT (level, idx) DO UPDATE SET hashes = excluded.hashes`, 3, n,
		func(i int, dst []any) []any {
			return append(dst, int(level), int64(first)+int64(i), buf[i*tileRow:min(len(buf), (i+1)*tileRow)])
		})
	if err != nil {
		return fmt.Errorf("write tiles at level %d: %w", level, err)
	}
	return nil
}

// tileNodes reads tree nodes from the tiles, each tile once per reader.
type tileNodes struct {
	ctx   context.Context
	q     querier
	tiles map[[2]uint64][]byte
}

// node is the hash of the perfect subtree at level, index: read from the
// tile at level/8 and, for a level in between, hashed up from it.
func (t *tileNodes) node(level uint, index uint64) ([]byte, error) {
	tl, sub := level/audit.TileHeight, level%audit.TileHeight
	lo := index << sub
	key := [2]uint64{uint64(tl), lo / audit.TileWidth}
	tile, ok := t.tiles[key]
	if !ok {
		var err error
		if tile, err = readTile(t.ctx, t.q, tl, key[1]); err != nil {
			return nil, err
		}
		t.tiles[key] = tile
	}
	off, n := int(lo%audit.TileWidth), 1<<sub
	if len(tile) < (off+n)*32 {
		return nil, fmt.Errorf("tree node %d/%d: not in the stored tiles", level, index)
	}
	hs := make([][]byte, n)
	for i := range hs {
		hs[i] = tile[(off+i)*32 : (off+i+1)*32]
	}
	for len(hs) > 1 {
		for i := 0; i < len(hs)/2; i++ {
			hs[i] = rfc6962.DefaultHasher.HashChildren(hs[2*i], hs[2*i+1])
		}
		hs = hs[:len(hs)/2]
	}
	return hs[0], nil
}

// Tile is the tile at level, index as C2SP tlog-tiles serves it: width
// hashes of 32 bytes; ErrNotFound when the stored tile is narrower (or
// absent). A width of audit.TileWidth is the full tile.
func (db *DB) Tile(ctx context.Context, level uint, index uint64, width int) ([]byte, error) {
	b, err := readTile(ctx, db.read, level, index)
	if err != nil {
		return nil, err
	}
	if width < 1 || width > audit.TileWidth || len(b) < width*32 {
		return nil, fmt.Errorf("tile %d/%d of width %d: %w", level, index, width, ErrNotFound)
	}
	return b[:width*32], nil
}

// migrateToTiles is migration 00020: the tree moves from a row per node
// (merkle_nodes) to a row per tile (log_tiles), the stored nodes of levels
// 0, 8, 16, … packed 256 to a row; the levels in between were redundant.
// Appends no longer touch the tree: log_sequence numbers records as they are
// written, and log_state stays the integrated tree (integrate.go). A node
// missing from the old rows stops the migration: the tiles would not verify.
var migrateToTiles = goose.NewGoMigration(20, &goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
	for _, q := range []string{
		`CREATE TABLE log_tiles (
			level  INTEGER NOT NULL,
			idx    BIGINT NOT NULL,
			hashes BYTEA NOT NULL,
			PRIMARY KEY (level, idx)
		)`,
		`CREATE TABLE log_sequence (
			id   INTEGER PRIMARY KEY,
			next BIGINT NOT NULL
		)`,
		`INSERT INTO log_sequence (id, next) SELECT id, size FROM log_state WHERE id = 1`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	var size int64
	if err := tx.QueryRowContext(ctx, `SELECT size FROM log_state WHERE id = 1`).Scan(&size); err != nil {
		return err
	}
	for level := uint(0); size>>level > 0; level += audit.TileHeight {
		if err := packNodes(ctx, tx, level, uint64(size)>>level); err != nil {
			return err
		}
	}
	_, err := tx.ExecContext(ctx, `DROP TABLE merkle_nodes`)
	return err
}}, &goose.GoFunc{RunTx: tilesToNodes})

// tilesToNodes is migration 00020 down: the tree's every node as a row again,
// rebuilt from the leaf tiles. Records not yet integrated stop it: the old
// schema has no place for them outside the tree.
func tilesToNodes(ctx context.Context, tx *sql.Tx) error {
	var size, next int64
	if err := tx.QueryRowContext(ctx, `SELECT s.size, q.next FROM log_state s, log_sequence q WHERE s.id = 1 AND q.id = 1`).Scan(&size, &next); err != nil {
		return err
	}
	if size != next {
		return fmt.Errorf("%d records of the lookup log are not integrated yet: start deling once more to integrate them", next-size)
	}
	var leaves [][]byte
	rows, err := tx.QueryContext(ctx, `SELECT hashes FROM log_tiles WHERE level = 0 ORDER BY idx`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			rows.Close()
			return err
		}
		for i := 0; i+32 <= len(b); i += 32 {
			leaves = append(leaves, b[i:i+32])
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if int64(len(leaves)) != size {
		return fmt.Errorf("the leaf tiles hold %d hashes where the tree has %d", len(leaves), size)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE merkle_nodes (level INTEGER NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL, PRIMARY KEY (level, idx))`); err != nil {
		return err
	}
	var visitErr error
	rng := rangeFactory.NewEmptyRange(0)
	for _, h := range leaves {
		err := rng.Append(h, func(id compact.NodeID, hash []byte) {
			if visitErr == nil {
				_, visitErr = tx.ExecContext(ctx, `INSERT INTO merkle_nodes (level, idx, hash) VALUES ($1, $2, $3)`, int(id.Level), int64(id.Index), hash)
			}
		})
		if err != nil {
			return err
		}
		if visitErr != nil {
			return visitErr
		}
	}
	_, err = tx.ExecContext(ctx, `DROP TABLE log_sequence; DROP TABLE log_tiles`)
	return err
}

// packNodes writes the n stored nodes of tree level as tiles.
func packNodes(ctx context.Context, tx *sql.Tx, level uint, n uint64) error {
	rows, err := tx.QueryContext(ctx, `SELECT idx, hash FROM merkle_nodes WHERE level = $1 AND idx < $2 ORDER BY idx`, int(level), int64(n))
	if err != nil {
		return err
	}
	var (
		buf   = make([]byte, 0, tileRow)
		next  uint64
		tiles [][]byte
	)
	for rows.Next() {
		var (
			idx  int64
			hash []byte
		)
		if err := rows.Scan(&idx, &hash); err != nil {
			rows.Close()
			return err
		}
		if uint64(idx) != next || len(hash) != 32 {
			rows.Close()
			return fmt.Errorf("migrate the lookup log's tree to tiles: node %d/%d is missing or malformed", level, next)
		}
		next++
		if buf = append(buf, hash...); len(buf) == tileRow {
			tiles, buf = append(tiles, buf), make([]byte, 0, tileRow)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if next != n {
		return fmt.Errorf("migrate the lookup log's tree to tiles: level %d has %d nodes where the tree has %d", level, next, n)
	}
	if len(buf) > 0 {
		tiles = append(tiles, buf)
	}
	for i, t := range tiles {
		if _, err := tx.ExecContext(ctx, `INSERT INTO log_tiles (level, idx, hashes) VALUES ($1, $2, $3)`, int(level/audit.TileHeight), int64(i), t); err != nil {
			return err
		}
	}
	return nil
}
