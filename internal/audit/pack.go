package audit

import (
	_ "embed"
	"errors"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// The stored form of a record (issue 15, the log's bytes on disk). The
// canonical record is what the leaf hash covers; the log stores it packed:
// one marker byte, then a zstd frame compressed against a fixed dictionary
// of typical records (dict/records-1.json, made-up values only). Plain
// canonical JSON starts with '{', which no marker is, so the records stored
// before packing (and any stored plain) read as they are. A later dictionary
// gets a new marker; a dictionary once used never changes (its SHA-256 is
// pinned by TestPackDictionaryPinned), or the records packed with it could no
// longer be read. The leaf hash stays SHA-256(0x00 ‖ salt ‖ canonical) over
// the unpacked bytes: proofs, checkpoints, receipts and tiles are unchanged.
//
// To recompute a leaf from a stored row: if the record column starts with
// '{' it is the canonical record; if it starts with PackedRecords1 (0x01),
// the rest is a zstd frame to decompress with dict/records-1.json as a raw
// content dictionary (dictionary id 0, so the frame names none; with the zstd
// command: zstd -d -D dict/records-1.json).

// PackedRecords1 is the marker of a record packed with dict/records-1.json.
const PackedRecords1 = 0x01

// MaxRecordSize bounds an unpacked record: no record the log writes comes
// near it (a kept response lies beside the record, not in it), and a
// corrupted or hostile stored value cannot make a reader allocate more.
const MaxRecordSize = 1 << 20

//go:embed dict/records-1.json
var records1 []byte

// packer and unpacker are shared: EncodeAll and DecodeAll are safe for
// concurrent use, with up to GOMAXPROCS calls running at once.
var packer, unpacker = newPacker()

// newPacker makes the encoder (SpeedFastest: docs/PERFORMANCE.md, "The log's
// bytes on disk", has the choice's numbers) and the bounded decoder.
func newPacker() (*zstd.Encoder, *zstd.Decoder) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(false),
		zstd.WithEncoderConcurrency(0), zstd.WithEncoderDictRaw(0, records1))
	if err != nil {
		panic(err)
	}
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(MaxRecordSize),
		zstd.WithDecoderMaxWindow(MaxRecordSize), zstd.WithDecoderDictRaw(0, records1))
	if err != nil {
		panic(err)
	}
	return enc, dec
}

// PackRecord is canonical's stored form: the marker and the zstd frame.
// Safe for concurrent use; it runs where an Entry is made (NewEntry), on the
// request's goroutine, never on the log's writer.
func PackRecord(canonical []byte) []byte {
	return packer.EncodeAll(canonical, []byte{PackedRecords1})
}

// UnpackRecord is the canonical record of a stored value: a plain record
// as it is, a packed one decompressed (at most MaxRecordSize). nil stays nil
// (a record erased by retention).
func UnpackRecord(stored []byte) ([]byte, error) {
	if len(stored) == 0 {
		return stored, nil
	}
	switch stored[0] {
	case '{':
		return stored, nil
	case PackedRecords1:
		b, err := unpacker.DecodeAll(stored[1:], nil)
		if err != nil {
			return nil, fmt.Errorf("unpack record: %w", err)
		}
		if len(b) > MaxRecordSize {
			return nil, errors.New("unpack record: larger than the bound")
		}
		if len(b) == 0 || b[0] != '{' {
			return nil, errors.New("unpack record: not a canonical record")
		}
		return b, nil
	default:
		return nil, fmt.Errorf("unpack record: unknown form 0x%02x", stored[0])
	}
}
