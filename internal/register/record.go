package register

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Record is one line of an import file: a person, an organisation or an
// arbeidsforhold, each in its JSON wire shape. Exactly one field is set.
type Record struct {
	Person         *Person
	Organisation   *Organisation
	Arbeidsforhold *Arbeidsforhold
}

// Kind names what the record holds.
func (r Record) Kind() string {
	switch {
	case r.Person != nil:
		return "person"
	case r.Organisation != nil:
		return "organisation"
	case r.Arbeidsforhold != nil:
		return "arbeidsforhold"
	}
	return "nothing"
}

// Validate validates whichever record is set.
func (r Record) Validate(env Env) error {
	switch {
	case r.Person != nil:
		return r.Person.Validate(env)
	case r.Organisation != nil:
		return r.Organisation.Validate(env)
	case r.Arbeidsforhold != nil:
		return r.Arbeidsforhold.Validate(env)
	}
	return errors.New("empty record")
}

// probe finds out what a line is from the keys only each kind has.
type probe struct {
	Arbeidstaker        json.RawMessage `json:"arbeidstaker"`
	Organisasjonsnummer json.RawMessage `json:"organisasjonsnummer"`
	Fornavn             json.RawMessage `json:"fornavn"`
}

// DecodeRecord reads one JSON object and tells its kind by its keys:
// "arbeidstaker" makes an arbeidsforhold, "organisasjonsnummer" an
// organisation, "fornavn" a person. Unknown fields, trailing data and wrong
// types are errors; the record is not validated.
func DecodeRecord(line []byte) (Record, error) {
	var p probe
	if err := json.Unmarshal(line, &p); err != nil {
		return Record{}, jsonError(err)
	}
	var r Record
	var target any
	switch {
	case p.Arbeidstaker != nil:
		r.Arbeidsforhold = new(Arbeidsforhold)
		target = r.Arbeidsforhold
	case p.Organisasjonsnummer != nil:
		r.Organisation = new(Organisation)
		target = r.Organisation
	case p.Fornavn != nil:
		r.Person = new(Person)
		target = r.Person
	default:
		return Record{}, errors.New(`not a known record: want an object with "arbeidstaker" (arbeidsforhold), "organisasjonsnummer" (organisation) or "fornavn" (person)`)
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(target); err != nil {
		return Record{}, jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Record{}, errors.New("data after the JSON object")
	}
	return r, nil
}

// jsonError makes encoding/json's errors readable without quoting values,
// which may be identifiers.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Errorf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ) && typ.Field == "":
		return fmt.Errorf("want a JSON object, got JSON %s", typ.Value)
	case errors.As(err, &typ):
		return fmt.Errorf("%s: want %s, got JSON %s", typ.Field, typ.Type, typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return errors.New("incomplete JSON object")
	}
	return fmt.Errorf("invalid JSON: %v", err)
}
