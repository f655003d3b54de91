package governance

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Rule AA-26: when a consumer's organisation number ceases in the Central
// Coordinating Register for Legal Entities (Enhetsregisteret), its access
// ends without undue delay. deling reads Brønnøysundregistrene's open data:
// the bulk download (https://data.brreg.no/enhetsregisteret/api/enheter/lastned,
// a gzip-compressed JSON array of enheter) or a page of the search API
// ({"_embedded":{"enheter":[…]}, "page":{…}}). Each enhet has dozens of
// fields; deling reads the few that say whether it still exists.
//
// What counts as ceased (Enhet.Ceased), decided here:
//   - slettedato: the entity is deleted from the register, its number ceased;
//   - konkurs: bankrupt; the estate is run by a trustee, not by the organisation
//     that applied, so the basis its access rested on is gone (a trustee who
//     needs the data applies anew);
//   - underTvangsavviklingEllerTvangsopplosning: being dissolved by the court,
//     which ends in deletion; the organisation no longer runs its business.
//
// underAvvikling alone (a voluntary winding-up the owners decided) keeps
// access: the organisation still exists and may need the data to wind up.
// It is reported so that a case worker can follow up.

// Enhet is what deling reads of one entity of Enhetsregisteret.
type Enhet struct {
	Organisasjonsnummer string `json:"organisasjonsnummer"`
	Navn                string `json:"navn"`
	Slettedato          string `json:"slettedato"` // yyyy-mm-dd when deleted
	Konkurs             bool   `json:"konkurs"`
	UnderAvvikling      bool   `json:"underAvvikling"`
	// UnderTvangsavvikling is underTvangsavviklingEllerTvangsopplosning.
	UnderTvangsavvikling bool `json:"underTvangsavviklingEllerTvangsopplosning"`
}

// Ceased reports whether the organisation's access must end (Rule AA-26; see above for what counts).
func (e *Enhet) Ceased() bool {
	return e.Slettedato != "" || e.Konkurs || e.UnderTvangsavvikling
}

// WindingUp reports an organisation in voluntary winding-up that has not ceased: access stays, a case worker is told.
func (e *Enhet) WindingUp() bool { return e.UnderAvvikling && !e.Ceased() }

// CeaseReason says, in Norwegian, why Enhetsregisteret shows the organisation as ceased, or "".
func (e *Enhet) CeaseReason() string {
	var why []string
	if e.Slettedato != "" {
		why = append(why, "slettet "+e.Slettedato)
	}
	if e.Konkurs {
		why = append(why, "konkurs")
	}
	if e.UnderTvangsavvikling {
		why = append(why, "under tvangsavvikling eller tvangsoppløsning")
	}
	return strings.Join(why, ", ")
}

// EnhetStats count what a parse read.
type EnhetStats struct {
	Read    int64 // entries read
	Skipped int64 // entries without a valid organisation number
}

var gzipMagic = []byte{0x1f, 0x8b}

// ParseEnheter reads Enhetsregisteret's open data from r, plain or
// gzip-compressed (detected by its magic bytes), and calls each for every
// entry with a valid organisation number, in order. It streams: memory is
// bounded by the largest single entry, not by the number of entries. Any
// malformed input is an error, so that a truncated download is never
// mistaken for a complete one.
func ParseEnheter(r io.Reader, each func(Enhet) error) (EnhetStats, error) {
	var st EnhetStats
	br := bufio.NewReaderSize(r, 64<<10)
	src := io.Reader(br)
	if magic, _ := br.Peek(2); bytes.Equal(magic, gzipMagic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return st, fmt.Errorf("enhetsregisteret: gzip: %w", err)
		}
		defer zr.Close()
		src = zr
	}
	dec := json.NewDecoder(src)
	p := &enhetParser{dec: dec, each: each, st: &st}
	tok, err := dec.Token()
	if err != nil {
		return st, p.wrap(err)
	}
	switch tok {
	case json.Delim('['):
		err = p.array()
	case json.Delim('{'):
		err = p.paged()
	default:
		err = errors.New("want a JSON array of enheter or an object with _embedded.enheter")
	}
	if err != nil {
		return st, p.wrap(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return st, p.wrap(errors.New("data after the end of the document"))
	}
	return st, nil
}

type enhetParser struct {
	dec  *json.Decoder
	each func(Enhet) error
	st   *EnhetStats
}

func (p *enhetParser) wrap(err error) error {
	var cb callbackError
	if errors.As(err, &cb) {
		return cb.err
	}
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("enhetsregisteret: after %d entries (byte %d): %w", p.st.Read, p.dec.InputOffset(), err)
}

// callbackError carries the caller's own error out unchanged.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

// array reads the entries of an array whose '[' was read, and its ']'.
func (p *enhetParser) array() error {
	for p.dec.More() {
		var e Enhet
		if err := p.dec.Decode(&e); err != nil {
			return fmt.Errorf("entry %d: %w", p.st.Read+1, err)
		}
		p.st.Read++
		if !validOrgnr(e.Organisasjonsnummer) {
			p.st.Skipped++
			continue
		}
		if e.Slettedato != "" {
			if _, err := time.Parse(time.DateOnly, e.Slettedato); err != nil {
				return fmt.Errorf("entry %d (%s): slettedato %q is not yyyy-mm-dd", p.st.Read, e.Organisasjonsnummer, e.Slettedato)
			}
		}
		if err := p.each(e); err != nil {
			return callbackError{err}
		}
	}
	return p.expect(json.Delim(']'))
}

// paged reads the API's page object whose '{' was read: enheter are under
// _embedded.enheter; page and _links are skipped.
func (p *enhetParser) paged() error {
	// An empty search answers without _embedded: no entries, not an error.
	return p.object(func(key string) error {
		if key != "_embedded" {
			return p.skip()
		}
		if err := p.expect(json.Delim('{')); err != nil {
			return err
		}
		return p.object(func(key string) error {
			if key != "enheter" {
				return p.skip()
			}
			if err := p.expect(json.Delim('[')); err != nil {
				return err
			}
			return p.array()
		})
	})
}

// object reads the members of an object whose '{' was read, and its '}', calling member for each key.
func (p *enhetParser) object(member func(key string) error) error {
	for p.dec.More() {
		tok, err := p.dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return errors.New("want an object key")
		}
		if err := member(key); err != nil {
			return err
		}
	}
	return p.expect(json.Delim('}'))
}

// skip reads past one value of any shape, token by token (bounded memory).
func (p *enhetParser) skip() error {
	depth := 0
	for {
		tok, err := p.dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

func (p *enhetParser) expect(want json.Delim) error {
	tok, err := p.dec.Token()
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("want %q", want)
	}
	return nil
}

// validOrgnr accepts nine digits (the check digit is Enhetsregisteret's business).
func validOrgnr(s string) bool {
	if len(s) != 9 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
