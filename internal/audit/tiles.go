package audit

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The log's tree in C2SP tlog-tiles (https://c2sp.org/tlog-tiles): a tile at
// level L and index N holds the hashes of tree level TileHeight·L, indices
// TileWidth·N onwards; a tile on the tree's right edge is partial, of width W.
const (
	TileHeight = 8
	TileWidth  = 1 << TileHeight
)

// TilePath is the tile's path after the log's prefix: tile/L/N, with N in
// groups of three digits ("x001/234"), and .p/W for a partial tile (width <
// TileWidth).
func TilePath(level uint, index uint64, width int) string {
	n := fmt.Sprintf("%03d", index%1000)
	for index >= 1000 {
		index /= 1000
		n = fmt.Sprintf("x%03d/%s", index%1000, n)
	}
	p := fmt.Sprintf("tile/%d/%s", level, n)
	if width < TileWidth {
		p += fmt.Sprintf(".p/%d", width)
	}
	return p
}

// ParseTilePath reads a hash tile's path after "tile/" (L/N or L/N.p/W), in
// the one canonical spelling TilePath gives; width is TileWidth for a full
// tile. Entry bundles (tile/entries/…) are not hash tiles.
func ParseTilePath(p string) (level uint, index uint64, width int, err error) {
	bad := func(why string) (uint, uint64, int, error) {
		return 0, 0, 0, errors.New("tile path: " + why)
	}
	l, rest, ok := strings.Cut(p, "/")
	if !ok {
		return bad("want L/N")
	}
	lv, err := strconv.ParseUint(l, 10, 6)
	if err != nil || strconv.FormatUint(lv, 10) != l {
		return bad("the level is not a number from 0 to 63")
	}
	width = TileWidth
	if n, w, ok := strings.Cut(rest, ".p/"); ok {
		wv, err := strconv.Atoi(w)
		if err != nil || wv < 1 || wv >= TileWidth || strconv.Itoa(wv) != w {
			return bad("a partial tile's width is from 1 to 255")
		}
		rest, width = n, wv
	}
	groups := strings.Split(rest, "/")
	if len(groups) > 7 {
		return bad("the index is too long")
	}
	for i, g := range groups {
		if i < len(groups)-1 {
			var ok bool
			if g, ok = strings.CutPrefix(g, "x"); !ok {
				return bad("every group of the index but the last begins with x")
			}
		}
		if len(g) != 3 || strings.Trim(g, "0123456789") != "" {
			return bad("the index is in groups of three digits")
		}
		d, _ := strconv.ParseUint(g, 10, 64)
		if index > (1<<63-1)/1000 {
			return bad("the index is too large")
		}
		index = index*1000 + d
	}
	if TilePath(uint(lv), index, width) != "tile/"+p {
		return bad("not in its canonical spelling")
	}
	return uint(lv), index, width, nil
}
