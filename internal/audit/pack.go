package audit

import (
	"bytes"
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

// MaxRecordSize bounds a record: NewEntry refuses a larger one (the append
// fails, so its request is not answered), and UnpackRecord refuses a stored
// value that would unpack to more, so every frame PackRecord writes,
// UnpackRecord accepts. The largest record the code writes is an extract's
// with 100,000 persons (extract.MaxUnitsLimit), about 5.5 MB of commitments;
// a kept response lies beside the record, not in it. A corrupted or hostile
// stored value cannot make a reader allocate more.
const MaxRecordSize = 16 << 20

// ErrRecordTooLarge is NewEntry's refusal of a record above MaxRecordSize.
var ErrRecordTooLarge = fmt.Errorf("record larger than %d bytes", MaxRecordSize)

//go:embed dict/records-1.json
var records1 []byte

// packer and unpacker are shared: EncodeAll and DecodeAll are safe for
// concurrent use, with up to GOMAXPROCS calls running at once.
var packer, unpacker = newPacker()

// newPacker makes the encoder (SpeedFastest: docs/PERFORMANCE.md, "The log's
// bytes on disk", has the choice's numbers) and the bounded decoder.
func newPacker() (*zstd.Encoder, *zstd.Decoder) {
	// The encoder's window (8 MiB, zstd's default) is within the decoder's
	// (MaxRecordSize): a record up to 8 MiB is one single-segment frame whose
	// window is its own size, a larger one names the 8 MiB window.
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderCRC(false),
		zstd.WithEncoderConcurrency(0), zstd.WithEncoderDictRaw(0, records1), zstd.WithWindowSize(8<<20))
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
// (a record erased by retention). A packed value is exactly one zstd frame
// that names no dictionary (ours is raw, id 0), with nothing before or after
// it: no skippable frame can carry bytes the leaf does not commit to.
func UnpackRecord(stored []byte) ([]byte, error) {
	if len(stored) == 0 {
		return stored, nil
	}
	switch stored[0] {
	case '{':
		return stored, nil
	case PackedRecords1:
		if err := oneFrame(stored[1:]); err != nil {
			return nil, fmt.Errorf("unpack record: %w", err)
		}
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

// zstdMagic is the magic number a zstd frame starts with (RFC 8878 §3.1.1).
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// oneFrame checks that b is one zstd frame and nothing else (RFC 8878 §3.1.1):
// the magic number (so no skippable frame, whose magic differs, comes
// first), no dictionary id, and blocks up to the last one and its checksum
// ending exactly at the end of b (so no frame of any kind comes after). The
// blocks' content is the decoder's to check.
func oneFrame(b []byte) error {
	if len(b) < 5 || !bytes.Equal(b[:4], zstdMagic) {
		return errors.New("not a zstd frame")
	}
	fhd := b[4]
	if fhd&0x03 != 0 {
		return errors.New("the frame names a dictionary")
	}
	single := fhd&0x20 != 0
	n := 5
	if !single {
		n++ // Window_Descriptor
	}
	switch fhd >> 6 { // Frame_Content_Size
	case 0:
		if single {
			n++
		}
	case 1:
		n += 2
	case 2:
		n += 4
	case 3:
		n += 8
	}
	for {
		if len(b) < n+3 {
			return errors.New("truncated zstd frame")
		}
		h := uint32(b[n]) | uint32(b[n+1])<<8 | uint32(b[n+2])<<16
		n += 3
		size := int(h >> 3)
		switch (h >> 1) & 3 {
		case 1: // RLE: one byte
			size = 1
		case 3:
			return errors.New("reserved zstd block type")
		}
		if len(b)-n < size {
			return errors.New("truncated zstd frame")
		}
		n += size
		if h&1 == 1 { // Last_Block
			break
		}
	}
	if fhd&0x04 != 0 { // Content_Checksum
		n += 4
	}
	if n != len(b) {
		return errors.New("bytes beside the zstd frame")
	}
	return nil
}
