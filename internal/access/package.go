package access

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"deling/internal/register"
)

// Package is a rettighetspakke: a named, versioned set of data elements (JSON
// paths of the arbeidsforhold model). A grant names packages by id and
// version, so a new version with more elements never widens an existing grant
// (Rule AA-07: more data elements need a new application).
type Package struct {
	ID          string   `json:"id"`
	Version     int      `json:"version"`
	Navn        string   `json:"navn"`
	Beskrivelse string   `json:"beskrivelse"`
	Elements    []string `json:"elements"`
	// Labels name every element in Norwegian, for people: the portal shows
	// these, never the paths (issue 16, item 8).
	Labels map[string]string `json:"etiketter"`
	// History allows historikk=true: every version of ansettelsesdetaljer, not only the current one.
	History bool `json:"history,omitempty"`
}

// Label is an element's Norwegian name; the path itself for an element the package does not have.
func (p Package) Label(path string) string {
	if l := p.Labels[path]; l != "" {
		return l
	}
	return path
}

// Ref is "id@version".
func (p Package) Ref() string { return p.ID + "@" + strconv.Itoa(p.Version) }

//go:embed packages.json
var defaultPackages []byte

// DefaultPackages is the embedded package definition file.
func DefaultPackages() []byte { return defaultPackages }

// alwaysElements are in every projection: without the uuid a consumer cannot page or refer to a record.
var alwaysElements = []string{"uuid"}

// codePaths maps element paths to the kodeverk list of the code found there,
// so that a projection can put back the descriptions the store leaves out.
var codePaths = map[string]string{
	"type":                                   register.KodeverkArbeidsforholdstyper,
	"rapporteringsordning":                   register.KodeverkRapporteringsordninger,
	"ansettelsesperiode.sluttaarsak":         register.KodeverkSluttaarsaker,
	"ansettelsesperiode.varsling":            register.KodeverkVarslingskoder,
	"ansettelsesdetaljer.arbeidstidsordning": register.KodeverkArbeidstidsordninger,
	"ansettelsesdetaljer.ansettelsesform":    register.KodeverkAnsettelsesformer,
	"ansettelsesdetaljer.yrke":               register.KodeverkYrker,
	"ansettelsesdetaljer.fartsomraade":       register.KodeverkFartsomraader,
	"ansettelsesdetaljer.skipsregister":      register.KodeverkSkipsregistre,
	"ansettelsesdetaljer.fartoeystype":       register.KodeverkSkipstyper,
	"permisjoner.type":                       register.KodeverkPermisjonOgPermittering,
	"permisjoner.varsling":                   register.KodeverkVarslingskoder,
	"permitteringer.type":                    register.KodeverkPermisjonOgPermittering,
	"permitteringer.varsling":                register.KodeverkVarslingskoder,
	"utenlandsopphold.land":                  register.KodeverkLandkoder,
	"varsler.varsling":                       register.KodeverkVarslingskoder,
}

func describe(list, kode string) (string, bool) {
	k, ok := register.Kodeverk.Lookup(list, kode)
	return k.Beskrivelse, ok && k.Beskrivelse != ""
}

// Catalogue is the set of packages in force, with the compiled projection of
// every combination of packages asked for so far.
type Catalogue struct {
	packages    map[string]Package // by ref
	latest      map[string]Package // by id
	projections sync.Map           // sorted refs joined by "," → *Projection
}

// ParseCatalogue reads a package definition file: {"packages": [Package, …]}.
// Every element must be a path of the arbeidsforhold model.
func ParseCatalogue(b []byte) (*Catalogue, error) {
	var file struct {
		Packages []Package `json:"packages"`
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&file); err != nil {
		return nil, fmt.Errorf("package definitions: %w", err)
	}
	if len(file.Packages) == 0 {
		return nil, errors.New("package definitions: no packages")
	}
	c := &Catalogue{packages: map[string]Package{}, latest: map[string]Package{}}
	for _, p := range file.Packages {
		if p.ID == "" || strings.ContainsAny(p.ID, "@, ") || p.Version < 1 {
			return nil, fmt.Errorf("package %q version %d: want an id without '@', ',' or spaces and a version from 1", p.ID, p.Version)
		}
		if _, dup := c.packages[p.Ref()]; dup {
			return nil, fmt.Errorf("package %s is defined twice", p.Ref())
		}
		for _, e := range p.Elements {
			if !knownElement(e) {
				return nil, fmt.Errorf("package %s: %q is not an element of the arbeidsforhold model", p.Ref(), e)
			}
			if strings.TrimSpace(p.Labels[e]) == "" {
				return nil, fmt.Errorf("package %s: element %q has no Norwegian label in \"etiketter\"", p.Ref(), e)
			}
		}
		for e := range p.Labels {
			if !slices.Contains(p.Elements, e) {
				return nil, fmt.Errorf("package %s: \"etiketter\" names %q, which is not one of its elements", p.Ref(), e)
			}
		}
		if _, err := CompileProjection(p.Elements, codePaths, describe); err != nil {
			return nil, fmt.Errorf("package %s: %w", p.Ref(), err)
		}
		c.packages[p.Ref()] = p
		if l, ok := c.latest[p.ID]; !ok || p.Version > l.Version {
			c.latest[p.ID] = p
		}
	}
	return c, nil
}

// Packages is every package, ordered by id and version.
func (c *Catalogue) Packages() []Package {
	out := make([]Package, 0, len(c.packages))
	for _, p := range c.packages {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Package) int {
		if a.ID != b.ID {
			return strings.Compare(a.ID, b.ID)
		}
		return a.Version - b.Version
	})
	return out
}

// Resolve turns "id" (the latest version) or "id@version" into a package.
func (c *Catalogue) Resolve(name string) (Package, error) {
	if strings.Contains(name, "@") {
		p, ok := c.packages[name]
		if !ok {
			return Package{}, fmt.Errorf("unknown package %q", name)
		}
		return p, nil
	}
	p, ok := c.latest[name]
	if !ok {
		return Package{}, fmt.Errorf("unknown package %q", name)
	}
	return p, nil
}

// Projection is the compiled projection for a set of package refs: the union of
// their elements, always with the uuid. Refs not in the catalogue are ignored
// (deny by default: an unknown package gives nothing).
func (c *Catalogue) Projection(refs []string) (*Projection, error) {
	sorted := slices.Clone(refs)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	key := strings.Join(sorted, ",")
	if p, ok := c.projections.Load(key); ok {
		return p.(*Projection), nil
	}
	elements := slices.Clone(alwaysElements)
	for _, r := range sorted {
		if p, ok := c.packages[r]; ok {
			elements = append(elements, p.Elements...)
		}
	}
	p, err := CompileProjection(elements, codePaths, describe)
	if err != nil {
		return nil, err
	}
	actual, _ := c.projections.LoadOrStore(key, p)
	return actual.(*Projection), nil
}

// History reports whether any of the refs allows historikk.
func (c *Catalogue) History(refs []string) bool {
	for _, r := range refs {
		if c.packages[r].History {
			return true
		}
	}
	return false
}
