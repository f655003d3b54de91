package extract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// CSV results have one column per element path the grant covers (the
// projection's paths, e.g. "uuid", "ansettelsesperiode.startdato",
// "ansettelsesdetaljer.yrke"), and nothing else (Rules AA-02, AA-07). A cell
// is the value at its path in the minimised record: a string as it is, a
// number or boolean as JSON writes it, an object or array as compact JSON, an
// absent value empty. A path through an array (ansettelsesdetaljer with
// historikk, permisjoner) collects the value of every element: one value is
// the cell, several are the cell as a JSON array.

// Columns is the header of a CSV result for a projection's paths: "uuid"
// first, as the key of every row, then the others in order.
func Columns(paths []string) []string {
	out := make([]string, 0, len(paths))
	if slices.Contains(paths, "uuid") {
		out = append(out, "uuid")
	}
	for _, p := range paths {
		if p != "uuid" {
			out = append(out, p)
		}
	}
	return out
}

// csvColumns are the header and the split paths of a projection's columns.
type csvColumns struct {
	header []string
	paths  [][]string
}

func newCSVColumns(paths []string) csvColumns {
	paths = Columns(paths)
	c := csvColumns{header: paths, paths: make([][]string, len(paths))}
	for i, p := range paths {
		c.paths[i] = strings.Split(p, ".")
	}
	return c
}

// row turns one minimised record into the cells of its row, reusing dst.
func (c csvColumns) row(record []byte, dst []string) ([]string, error) {
	dec := json.NewDecoder(bytes.NewReader(record))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("csv: %w", err)
	}
	dst = dst[:0]
	var vals []any
	for _, p := range c.paths {
		vals = collect(v, p, vals[:0])
		var cell string
		switch len(vals) {
		case 0:
		case 1:
			cell = scalar(vals[0])
		default:
			b, err := json.Marshal(vals)
			if err != nil {
				return nil, err
			}
			cell = string(b)
		}
		dst = append(dst, cell)
	}
	return dst, nil
}

// collect appends the values at path below v; arrays on the way are crossed element by element.
func collect(v any, path []string, out []any) []any {
	if len(path) == 0 {
		if v != nil {
			out = append(out, v)
		}
		return out
	}
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			out = collect(e, path, out)
		}
	case map[string]any:
		if c, ok := x[path[0]]; ok {
			out = collect(c, path[1:], out)
		}
	}
	return out
}

func scalar(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}
