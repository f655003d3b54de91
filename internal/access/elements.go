package access

import (
	"reflect"
	"sort"
	"strings"
	"sync"

	"deling/internal/register"
)

// modelElements is every JSON path of the arbeidsforhold model, read once from
// the Go type's json tags: the vocabulary packages are written in.
var modelElements = sync.OnceValue(func() map[string]bool {
	paths := map[string]bool{}
	var walk func(t reflect.Type, prefix string, depth int)
	walk = func(t reflect.Type, prefix string, depth int) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct || depth > 6 {
			return
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			p := prefix + name
			paths[p] = true
			walk(f.Type, p+".", depth+1)
		}
	}
	walk(reflect.TypeFor[register.Arbeidsforhold](), "", 0)
	return paths
})

func knownElement(path string) bool { return modelElements()[path] }

// Elements is every element path of the arbeidsforhold model, sorted.
func Elements() []string {
	var out []string
	for p := range modelElements() {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
