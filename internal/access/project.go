package access

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// A Projection selects parts of JSON documents by element paths and fills in code descriptions.
//
// It is how a lookup gives a consumer only the data elements its grants cover
// (Rules AA-02, AA-07, SK-05): the stored record is rewritten in one pass over
// its bytes, without decoding it into Go values. Nothing of an unselected
// element reaches the output, not even that it exists or how many there are.
// A Projection is immutable and safe for concurrent use.
type Projection struct {
	root   *projNode
	paths  []string
	lookup func(list, kode string) (string, bool)
}

// projNode is one object key of the compiled path tree. Arrays have no node
// of their own: a node applies to every element of an array at its place.
type projNode struct {
	key      string
	whole    bool   // the value is selected entirely
	sel      bool   // some descendant is selected (the value is selected in part)
	code     string // code list of the value here, "" if none
	codes    bool   // this node or a descendant has a code list
	children []*projNode
}

func (n *projNode) add(key string) *projNode {
	for _, c := range n.children {
		if c.key == key {
			return c
		}
	}
	c := &projNode{key: key}
	n.children = append(n.children, c)
	return c
}

// child finds the node for a raw key (the bytes between the quotes); esc says
// whether the key has escapes.
func (n *projNode) child(raw []byte, esc bool) *projNode {
	if !esc {
		for _, c := range n.children {
			if c.key == string(raw) {
				return c
			}
		}
		return nil
	}
	for _, c := range n.children {
		if projKeyEqual(raw, c.key) {
			return c
		}
	}
	return nil
}

func (n *projNode) finish() {
	n.codes = n.code != ""
	for _, c := range n.children {
		c.finish()
		n.sel = n.sel || c.whole || c.sel
		n.codes = n.codes || c.codes
	}
}

// wholePaths appends the paths that are selected entirely, below prefix.
func (n *projNode) wholePaths(out []string, prefix string) []string {
	for _, c := range n.children {
		p := prefix + c.key
		if c.whole {
			out = append(out, p)
		} else if c.sel {
			out = c.wholePaths(out, p+".")
		}
	}
	return out
}

// CompileProjection compiles element paths. A path is dot-separated object keys, e.g.
// "uuid", "ansettelsesperiode.startdato", "ansettelsesdetaljer.yrke". Arrays are transparent: a
// path through an array applies to every element. A path that ends at a key selects that key's
// whole value. If both "a" and "a.b" are given, "a" (the whole) wins. Empty path segments, an
// empty list, or a path with characters other than ASCII letters/digits/underscore per segment are errors.
// codes maps paths to the name of a code list (e.g. "ansettelsesdetaljer.yrke" → "Yrker"); lookup
// gives the description of a code in a list. Either may be nil.
//
// lookup must be safe for concurrent use and must not keep the kode string it
// is given: to avoid an allocation per code, it may share memory with the
// document being projected.
func CompileProjection(paths []string, codes map[string]string, lookup func(list, kode string) (string, bool)) (*Projection, error) {
	if len(paths) == 0 {
		return nil, errors.New("projection: no paths")
	}
	root := &projNode{}
	for _, path := range paths {
		if err := projCheckPath(path); err != nil {
			return nil, err
		}
		n := root
		for seg := range strings.SplitSeq(path, ".") {
			n = n.add(seg)
		}
		n.whole = true
	}
	codePaths := make([]string, 0, len(codes))
	for path := range codes {
		codePaths = append(codePaths, path)
	}
	slices.Sort(codePaths) // the same error for the same input
	for _, path := range codePaths {
		if err := projCheckPath(path); err != nil {
			return nil, fmt.Errorf("code %w", err)
		}
		list := codes[path]
		if list == "" {
			return nil, fmt.Errorf("code path %q: empty code list name", path)
		}
		if lookup == nil {
			continue
		}
		n := root
		for seg := range strings.SplitSeq(path, ".") {
			n = n.add(seg)
		}
		n.code = list
	}
	root.finish()
	p := &Projection{root: root, lookup: lookup, paths: root.wholePaths(nil, "")}
	slices.Sort(p.paths)
	return p, nil
}

func projCheckPath(path string) error {
	for seg := range strings.SplitSeq(path, ".") {
		if seg == "" {
			return fmt.Errorf("path %q: empty segment", path)
		}
		for i := 0; i < len(seg); i++ {
			c := seg[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
				return fmt.Errorf("path %q: segment %q: want ASCII letters, digits and '_'", path, seg)
			}
		}
	}
	return nil
}

// Paths returns the compiled paths, sorted (for documentation and tests).
// A path below one selected whole is left out.
func (p *Projection) Paths() []string { return slices.Clone(p.paths) }

// Options for one application.
type Options struct {
	// CurrentDetaljer keeps, of the top-level array "ansettelsesdetaljer", only the current version:
	// the element whose "rapporteringsmaaneder"."til" is null or absent; if no element is open, the
	// element with the greatest "rapporteringsmaaneder"."fra" string (ISO yyyy-MM compares as strings);
	// ties: the first. Without it every element is kept.
	CurrentDetaljer bool
}

// projMaxDepth is the deepest nesting of objects and arrays accepted; records nest six deep.
const projMaxDepth = 64

// Append appends the projection of the JSON object src to dst and returns the extended buffer.
// src must be one JSON object (leading/trailing whitespace allowed); anything else is an error and
// dst is returned unchanged (truncated back to its original length).
//
// The output is compact JSON in the key order of src. An object or array
// selected only in part that ends up empty is left out with its key; the
// top-level object is "{}" if none of its keys is selected.
func (p *Projection) Append(dst, src []byte, opts Options) ([]byte, error) {
	if p == nil || p.root == nil {
		return dst, errors.New("projection: not compiled")
	}
	s := projState{src: src, dst: dst, lookup: p.lookup, current: opts.CurrentDetaljer}
	i := s.skipWS(0)
	if i >= len(src) || src[i] != '{' {
		return dst, projSyntax(i, "want an object")
	}
	i, _, err := s.selectObject(i, p.root, 1, true)
	if err == nil {
		if i = s.skipWS(i); i != len(src) {
			err = projSyntax(i, "data after the object")
		}
	}
	if err != nil {
		return dst, err
	}
	return s.dst, nil
}

func projSyntax(off int, what string) error {
	return fmt.Errorf("projection: invalid JSON at offset %d: %s", off, what)
}

// projState is one application of a Projection. Every method taking an offset
// i expects it at the first byte of a value (whitespace skipped) and returns the
// offset just after that value. depth is the depth of the enclosing container.
type projState struct {
	src     []byte
	dst     []byte
	lookup  func(list, kode string) (string, bool)
	current bool
	ws      bool // whitespace was skipped since it was last cleared
}

func (s *projState) skipWS(i int) int {
	for i < len(s.src) {
		if c := s.src[i]; c > ' ' || c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return i
		}
		s.ws = true
		i++
	}
	return i
}

// expect skips whitespace, then the byte c.
func (s *projState) expect(i int, c byte) (int, error) {
	i = s.skipWS(i)
	if i >= len(s.src) || s.src[i] != c {
		return i, projSyntax(i, "want '"+string(c)+"'")
	}
	return s.skipWS(i + 1), nil
}

// next skips whitespace and the separator after a member or element: it
// reports whether the container goes on (',') or ends (close).
func (s *projState) next(i int, close byte) (int, bool, error) {
	i = s.skipWS(i)
	if i < len(s.src) {
		switch s.src[i] {
		case ',':
			return s.skipWS(i + 1), true, nil
		case close:
			return i + 1, false, nil
		}
	}
	return i, false, projSyntax(i, "want ',' or '"+string(close)+"'")
}

// open enters a container at i: it checks the depth and reports whether the
// container is empty.
func (s *projState) open(i, depth int, close byte) (int, bool, error) {
	if depth > projMaxDepth {
		return i, false, projSyntax(i, "nested too deep")
	}
	i = s.skipWS(i + 1)
	if i < len(s.src) && s.src[i] == close {
		return i + 1, true, nil
	}
	return i, false, nil
}

// key scans an object key at i and the colon after it. It returns the offsets
// of the quoted key, whether the key has escapes, and the offset of the value.
func (s *projState) key(i int) (ks, ke int, esc bool, v int, err error) {
	if i >= len(s.src) || s.src[i] != '"' {
		return 0, 0, false, i, projSyntax(i, "want a key")
	}
	ke, esc, err = s.skipString(i)
	if err != nil {
		return 0, 0, false, ke, err
	}
	v, err = s.expect(ke, ':')
	return i, ke, esc, v, err
}

// projStrPlain marks the bytes that stand for themselves inside a JSON string.
var projStrPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func projHex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}

const (
	projLSB = 0x0101010101010101
	projMSB = 0x8080808080808080
)

// skipString scans the string at i; esc reports escapes in it.
func (s *projState) skipString(i int) (end int, esc bool, err error) {
	src := s.src
	j := i + 1
	for {
		if j+8 <= len(src) {
			// Eight bytes at a time: find the first '"', '\\' or control character.
			x := binary.LittleEndian.Uint64(src[j:])
			q, b := x^(projLSB*'"'), x^(projLSB*'\\')
			m := ((x-projLSB*0x20)&^x | (q-projLSB)&^q | (b-projLSB)&^b) & projMSB
			if m == 0 {
				j += 8
				continue
			}
			j += bits.TrailingZeros64(m) >> 3
		} else {
			for j < len(src) && projStrPlain[src[j]] {
				j++
			}
			if j >= len(src) {
				return j, esc, projSyntax(i, "unterminated string")
			}
		}
		switch src[j] {
		case '"':
			return j + 1, esc, nil
		case '\\':
			esc = true
			if j+1 >= len(src) {
				return j, esc, projSyntax(j, "unterminated string")
			}
			switch src[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j += 2
			case 'u':
				if j+6 > len(src) || projHex(src[j+2])|projHex(src[j+3])|projHex(src[j+4])|projHex(src[j+5]) < 0 {
					return j, esc, projSyntax(j, "bad \\u escape")
				}
				j += 6
			default:
				return j, esc, projSyntax(j, "bad escape")
			}
		default:
			return j, esc, projSyntax(j, "control character in string")
		}
	}
}

func (s *projState) skipNumber(i int) (int, error) {
	src := s.src
	j := i
	if j < len(src) && src[j] == '-' {
		j++
	}
	digits := func() int {
		k := j
		for j < len(src) && '0' <= src[j] && src[j] <= '9' {
			j++
		}
		return j - k
	}
	switch {
	case j < len(src) && src[j] == '0':
		j++
	case digits() == 0:
		return j, projSyntax(j, "bad number")
	}
	if j < len(src) && src[j] == '.' {
		j++
		if digits() == 0 {
			return j, projSyntax(j, "bad number")
		}
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		j++
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		if digits() == 0 {
			return j, projSyntax(j, "bad number")
		}
	}
	return j, nil
}

// skipValue scans and checks the value at i.
func (s *projState) skipValue(i, depth int) (int, error) {
	src := s.src
	if i >= len(src) {
		return i, projSyntax(i, "want a value")
	}
	switch c := src[i]; c {
	case '"':
		end, _, err := s.skipString(i)
		return end, err
	case '{':
		i, empty, err := s.open(i, depth+1, '}')
		if empty || err != nil {
			return i, err
		}
		for more := true; more; {
			var v int
			if _, _, _, v, err = s.key(i); err != nil {
				return v, err
			}
			if i, err = s.skipValue(v, depth+1); err != nil {
				return i, err
			}
			if i, more, err = s.next(i, '}'); err != nil {
				return i, err
			}
		}
		return i, nil
	case '[':
		i, empty, err := s.open(i, depth+1, ']')
		if empty || err != nil {
			return i, err
		}
		for more := true; more; {
			if i, err = s.skipValue(i, depth+1); err != nil {
				return i, err
			}
			if i, more, err = s.next(i, ']'); err != nil {
				return i, err
			}
		}
		return i, nil
	case 't':
		return s.literal(i, "true")
	case 'f':
		return s.literal(i, "false")
	case 'n':
		return s.literal(i, "null")
	default:
		if c == '-' || '0' <= c && c <= '9' {
			return s.skipNumber(i)
		}
		return i, projSyntax(i, "want a value")
	}
}

func (s *projState) literal(i int, lit string) (int, error) {
	if len(s.src)-i < len(lit) || string(s.src[i:i+len(lit)]) != lit {
		return i, projSyntax(i, "bad literal")
	}
	return i + len(lit), nil
}

// copyRaw appends the value at i as it is, without whitespace between tokens.
func (s *projState) copyRaw(i, depth int) (int, error) {
	s.ws = false
	end, err := s.skipValue(i, depth)
	if err != nil {
		return end, err
	}
	if !s.ws {
		s.dst = append(s.dst, s.src[i:end]...)
		return end, nil
	}
	b := s.src[i:end]
	start, inStr := 0, false
	for k := 0; k < len(b); k++ {
		c := b[k]
		if inStr {
			if c == '\\' {
				k++
			} else if c == '"' {
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case ' ', '\t', '\n', '\r':
			s.dst = append(s.dst, b[start:k]...)
			start = k + 1
		}
	}
	s.dst = append(s.dst, b[start:]...)
	return end, nil
}

// selectObject appends the selected members of the object at i under the
// partly selected node n; depth is the object's own depth. Unless top, an
// object without selected members is not appended and wrote is false.
func (s *projState) selectObject(i int, n *projNode, depth int, top bool) (_ int, wrote bool, err error) {
	mark := len(s.dst)
	s.dst = append(s.dst, '{')
	i, empty, err := s.open(i, depth, '}')
	if err != nil {
		return i, false, err
	}
	for more := !empty; more; {
		ks, ke, esc, v, err := s.key(i)
		if err != nil {
			return v, false, err
		}
		c := n.child(s.src[ks+1:ke-1], esc)
		if c == nil || !c.whole && !c.sel {
			i, err = s.skipValue(v, depth)
		} else {
			m := len(s.dst)
			if wrote {
				s.dst = append(s.dst, ',')
			}
			s.dst = append(s.dst, s.src[ks:ke]...)
			s.dst = append(s.dst, ':')
			ok := true
			switch {
			case top && s.current && c.key == "ansettelsesdetaljer" && v < len(s.src) && s.src[v] == '[':
				i, ok, err = s.currentVersion(v, c, depth)
			case c.whole:
				i, err = s.copyValue(v, c, depth)
			default:
				i, ok, err = s.selectValue(v, c, depth)
			}
			if ok {
				wrote = true
			} else {
				s.dst = s.dst[:m]
			}
		}
		if err != nil {
			return i, false, err
		}
		if i, more, err = s.next(i, '}'); err != nil {
			return i, false, err
		}
	}
	if !wrote && !top {
		s.dst = s.dst[:mark]
		return i, false, nil
	}
	s.dst = append(s.dst, '}')
	return i, wrote, nil
}

// selectValue appends the value at i under the partly selected node n, if
// anything of it is selected.
func (s *projState) selectValue(i int, n *projNode, depth int) (int, bool, error) {
	if i < len(s.src) {
		switch s.src[i] {
		case '{':
			return s.selectObject(i, n, depth+1, false)
		case '[':
			mark := len(s.dst)
			s.dst = append(s.dst, '[')
			i, empty, err := s.open(i, depth+1, ']')
			if err != nil {
				return i, false, err
			}
			wrote := false
			for more := !empty; more; {
				m := len(s.dst)
				if wrote {
					s.dst = append(s.dst, ',')
				}
				var ok bool
				if i, ok, err = s.selectValue(i, n, depth+1); ok {
					wrote = true
				} else {
					s.dst = s.dst[:m]
				}
				if err != nil {
					return i, false, err
				}
				if i, more, err = s.next(i, ']'); err != nil {
					return i, false, err
				}
			}
			if !wrote {
				s.dst = s.dst[:mark]
				return i, false, nil
			}
			s.dst = append(s.dst, ']')
			return i, true, nil
		}
	}
	// A scalar where an object was expected: nothing of it is selected.
	i, err := s.skipValue(i, depth)
	return i, false, err
}

// copyValue appends the wholly selected value at i, filling in code
// descriptions where n (nil: none) has code lists.
func (s *projState) copyValue(i int, n *projNode, depth int) (int, error) {
	if n == nil || !n.codes || i >= len(s.src) {
		return s.copyRaw(i, depth)
	}
	switch s.src[i] {
	case '[':
		s.dst = append(s.dst, '[')
		i, empty, err := s.open(i, depth+1, ']')
		if err != nil {
			return i, err
		}
		for more, first := !empty, true; more; first = false {
			if !first {
				s.dst = append(s.dst, ',')
			}
			if i, err = s.copyValue(i, n, depth+1); err != nil {
				return i, err
			}
			if i, more, err = s.next(i, ']'); err != nil {
				return i, err
			}
		}
		s.dst = append(s.dst, ']')
		return i, nil
	case '{':
		return s.copyObject(i, n, depth+1)
	}
	return s.copyRaw(i, depth)
}

// copyObject appends the object at i under node n, which has code lists at or
// below it; depth is the object's own depth. At a code path the description
// goes in right after the "kode" member, once the rest of the object has shown
// that it has no "beskrivelse".
func (s *projState) copyObject(i int, n *projNode, depth int) (int, error) {
	s.dst = append(s.dst, '{')
	i, empty, err := s.open(i, depth, '}')
	if err != nil {
		return i, err
	}
	fillAt, kode, described := -1, []byte(nil), false
	for more, first := !empty, true; more; first = false {
		ks, ke, esc, v, err := s.key(i)
		if err != nil {
			return v, err
		}
		if !first {
			s.dst = append(s.dst, ',')
		}
		s.dst = append(s.dst, s.src[ks:ke]...)
		s.dst = append(s.dst, ':')
		raw := s.src[ks+1 : ke-1]
		if i, err = s.copyValue(v, n.child(raw, esc), depth); err != nil {
			return i, err
		}
		if n.code != "" {
			switch {
			case projRawKeyIs(raw, esc, "kode"): // the last one counts, as in encoding/json
				fillAt = -1
				if s.src[v] == '"' {
					fillAt, kode = len(s.dst), s.src[v+1:i-1]
				}
			case projRawKeyIs(raw, esc, "beskrivelse"):
				described = true
			}
		}
		if i, more, err = s.next(i, '}'); err != nil {
			return i, err
		}
	}
	if fillAt >= 0 && !described && s.lookup != nil {
		if desc, ok := s.lookup(n.code, projStringValue(kode)); ok {
			end := len(s.dst)
			s.dst = append(s.dst, `,"beskrivelse":`...)
			s.dst = projAppendString(s.dst, desc)
			projRotate(s.dst[fillAt:], end-fillAt)
		}
	}
	s.dst = append(s.dst, '}')
	return i, nil
}

// projRotate moves the first k bytes of b to its end, in place.
func projRotate(b []byte, k int) {
	if k == 0 || k == len(b) {
		return
	}
	slices.Reverse(b[:k])
	slices.Reverse(b[k:])
	slices.Reverse(b)
}

// currentVersion appends, of the top-level "ansettelsesdetaljer" array at i
// (depth is the depth of the object holding it), only the current version
// (see Options.CurrentDetaljer), selected by n. It looks ahead through the
// array once to find the version and check the array, then goes back to it.
func (s *projState) currentVersion(i int, n *projNode, depth int) (int, bool, error) {
	at, end, err := s.currentIndex(i, depth)
	if err != nil {
		return end, false, err
	}
	if n.whole {
		s.dst = append(s.dst, '[')
		if at >= 0 {
			if _, err := s.copyValue(at, n, depth+1); err != nil {
				return at, false, err
			}
		}
		s.dst = append(s.dst, ']')
		return end, true, nil
	}
	if at < 0 {
		return end, false, nil
	}
	s.dst = append(s.dst, '[')
	_, ok, err := s.selectValue(at, n, depth+1)
	if err != nil || !ok {
		return end, false, err
	}
	s.dst = append(s.dst, ']')
	return end, true, nil
}

// currentIndex looks ahead through the "ansettelsesdetaljer" array at i and
// returns the offset of its current version (-1 if the array is empty) and the
// offset after the array.
func (s *projState) currentIndex(i, depth int) (at, end int, err error) {
	depth++
	i, empty, err := s.open(i, depth, ']')
	if err != nil || empty {
		return -1, i, err
	}
	at, found, bestFra, bestEsc := -1, false, []byte(nil), false
	for more := true; more; {
		start := i
		if found {
			i, err = s.skipValue(i, depth)
		} else {
			var open, esc bool
			var fra []byte
			i, open, fra, esc, err = s.detaljer(i, depth)
			switch {
			case open:
				at, found = start, true
			case at < 0 || projStringLess(bestFra, bestEsc, fra, esc):
				at, bestFra, bestEsc = start, fra, esc
			}
		}
		if err != nil {
			return -1, i, err
		}
		if i, more, err = s.next(i, ']'); err != nil {
			return -1, i, err
		}
	}
	return at, i, nil
}

// detaljer scans one element of ansettelsesdetaljer at i: open reports
// whether rapporteringsmaaneder.til is null or absent; fra is the raw content
// of the string rapporteringsmaaneder.fra (nil if it is no string).
func (s *projState) detaljer(i, depth int) (_ int, open bool, fra []byte, esc bool, err error) {
	if i >= len(s.src) || s.src[i] != '{' {
		i, err = s.skipValue(i, depth)
		return i, true, nil, false, err
	}
	i, empty, err := s.open(i, depth+1, '}')
	open = true
	if err != nil || empty {
		return i, open, nil, false, err
	}
	for more := true; more; {
		ks, ke, kesc, v, err := s.key(i)
		if err != nil {
			return v, false, nil, false, err
		}
		if !projRawKeyIs(s.src[ks+1:ke-1], kesc, "rapporteringsmaaneder") {
			i, err = s.skipValue(v, depth+1)
		} else {
			i, open, fra, esc, err = s.maaneder(v, depth+1)
		}
		if err != nil {
			return i, false, nil, false, err
		}
		if i, more, err = s.next(i, '}'); err != nil {
			return i, false, nil, false, err
		}
	}
	return i, open, fra, esc, nil
}

// maaneder scans a rapporteringsmaaneder value at i for detaljer.
func (s *projState) maaneder(i, depth int) (_ int, open bool, fra []byte, esc bool, err error) {
	open = true
	if i >= len(s.src) || s.src[i] != '{' {
		i, err = s.skipValue(i, depth)
		return i, open, nil, false, err
	}
	i, empty, err := s.open(i, depth+1, '}')
	if err != nil || empty {
		return i, open, nil, false, err
	}
	for more := true; more; {
		ks, ke, kesc, v, err := s.key(i)
		if err != nil {
			return v, false, nil, false, err
		}
		raw := s.src[ks+1 : ke-1]
		switch {
		case projRawKeyIs(raw, kesc, "til"):
			open = v < len(s.src) && s.src[v] == 'n' // null; skipValue checks the rest
			i, err = s.skipValue(v, depth+1)
		case projRawKeyIs(raw, kesc, "fra") && v < len(s.src) && s.src[v] == '"':
			if i, esc, err = s.skipString(v); err == nil {
				fra = s.src[v+1 : i-1]
			}
		default:
			if projRawKeyIs(raw, kesc, "fra") {
				fra, esc = nil, false
			}
			i, err = s.skipValue(v, depth+1)
		}
		if err != nil {
			return i, false, nil, false, err
		}
		if i, more, err = s.next(i, '}'); err != nil {
			return i, false, nil, false, err
		}
	}
	return i, open, fra, esc, nil
}

func projRawKeyIs(raw []byte, esc bool, key string) bool {
	if !esc {
		return string(raw) == key
	}
	return projKeyEqual(raw, key)
}

// projKeyEqual compares the checked raw content of a string with escapes to an ASCII key.
func projKeyEqual(raw []byte, key string) bool {
	k := 0
	for i := 0; i < len(raw); k++ {
		c := raw[i]
		if c == '\\' {
			switch e := raw[i+1]; e {
			case 'u':
				r := projHex(raw[i+2])<<12 | projHex(raw[i+3])<<8 | projHex(raw[i+4])<<4 | projHex(raw[i+5])
				if r >= utf8.RuneSelf {
					return false
				}
				c = byte(r)
				i += 6
			default:
				c = projUnescape(e)
				i += 2
			}
		} else {
			i++
		}
		if k >= len(key) || key[k] != c {
			return false
		}
	}
	return k == len(key)
}

func projUnescape(e byte) byte {
	switch e {
	case 'b':
		return '\b'
	case 'f':
		return '\f'
	case 'n':
		return '\n'
	case 'r':
		return '\r'
	case 't':
		return '\t'
	}
	return e // '"', '\\', '/'
}

// projStringValue is the Go string for the checked raw content of a JSON
// string. Without escapes and with valid UTF-8 it shares raw's memory, so the
// result must not be kept.
func projStringValue(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	if bytes.IndexByte(raw, '\\') < 0 && utf8.Valid(raw) {
		return unsafe.String(&raw[0], len(raw))
	}
	return string(projUnquote(raw))
}

// projUnquote decodes the checked raw content of a JSON string as
// encoding/json does: bad surrogates and invalid UTF-8 become U+FFFD.
func projUnquote(raw []byte) []byte {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\' && raw[i+1] == 'u':
			r := projU4(raw[i:])
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(raw)-i >= 6 && raw[i] == '\\' && raw[i+1] == 'u' {
					r2 = projU4(raw[i:])
				}
				if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
					i += 6
					r = dec
				} else {
					r = unicode.ReplacementChar
				}
			}
			out = utf8.AppendRune(out, r)
		case c == '\\':
			out = append(out, projUnescape(raw[i+1]))
			i += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, unicode.ReplacementChar)
			} else {
				out = append(out, raw[i:i+size]...)
			}
			i += size
		}
	}
	return out
}

// projU4 decodes the checked escape \uXXXX at the start of b.
func projU4(b []byte) rune {
	return rune(projHex(b[2])<<12 | projHex(b[3])<<8 | projHex(b[4])<<4 | projHex(b[5]))
}

// projStringLess reports whether JSON string a sorts before b (raw contents; nil is "").
func projStringLess(a []byte, aEsc bool, b []byte, bEsc bool) bool {
	if !aEsc && !bEsc && projASCII(a) && projASCII(b) {
		return bytes.Compare(a, b) < 0
	}
	return bytes.Compare(projUnquote(a), projUnquote(b)) < 0
}

func projASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

const projHexDigits = "0123456789abcdef"

// projAppendString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func projAppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', projHexDigits[c>>4], projHexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			if r == utf8.RuneError {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, '\\', 'u', '2', '0', '2', projHexDigits[r&0xF])
			}
			start = i + size
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
