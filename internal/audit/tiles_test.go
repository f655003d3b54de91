package audit

import (
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// TilePath spells a tile as C2SP tlog-tiles (and golang.org/x/mod's tlog,
// less its height element) does, and ParseTilePath reads back only that.
func TestTilePath(t *testing.T) {
	for _, tc := range []struct {
		level uint
		index uint64
		width int
	}{{0, 0, 256}, {0, 3, 88}, {1, 1234067, 256}, {2, 999, 1}, {0, 1000, 255}, {5, 1<<40 + 7, 256}} {
		want := tlog.Tile{H: 8, L: int(tc.level), N: int64(tc.index), W: tc.width}.Path()
		got := TilePath(tc.level, tc.index, tc.width)
		if "tile/8/"+got[len("tile/"):] != want {
			t.Errorf("TilePath(%d, %d, %d) = %s; tlog: %s", tc.level, tc.index, tc.width, got, want)
		}
		l, i, w, err := ParseTilePath(got[len("tile/"):])
		if err != nil || l != tc.level || i != tc.index || w != tc.width {
			t.Errorf("ParseTilePath(%s) = %d %d %d %v", got, l, i, w, err)
		}
	}
	for _, bad := range []string{"", "0", "0/", "entries/000", "0/3", "0/0003", "00/000", "64/000", "0/000.p/0", "0/000.p/256",
		"0/000.p/08", "0/x000/000", "0/x001/x2/000", "0/001/000", "0/-01", "0/x001/234.p", "0/000/", "+0/000"} {
		if _, _, _, err := ParseTilePath(bad); err == nil {
			t.Errorf("ParseTilePath(%q) took it", bad)
		}
	}
}

// A tile path is outside input: ParseTilePath never panics, and what it
// takes is the one canonical spelling.
func FuzzParseTilePath(f *testing.F) {
	for _, s := range []string{"0/000", "1/x001/x234/067.p/8", "entries/000", "63/x999/999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		l, i, w, err := ParseTilePath(p)
		if err != nil {
			return
		}
		if TilePath(l, i, w) != "tile/"+p {
			t.Fatalf("%q read as %d %d %d", p, l, i, w)
		}
	})
}
