package access

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"deling/internal/register"
)

// Channel is how data leaves the register.
type Channel string

// The three channels (Rule AA-01: an application names the access types).
const (
	ChannelAPI     Channel = "api"
	ChannelWeb     Channel = "web"
	ChannelExtract Channel = "extract"
)

// ParseChannel accepts api, web or extract.
func ParseChannel(s string) (Channel, error) {
	switch c := Channel(s); c {
	case ChannelAPI, ChannelWeb, ChannelExtract:
		return c, nil
	}
	return "", fmt.Errorf("unknown channel %q (want api, web or extract)", s)
}

// QueryKind is what a lookup is keyed on.
type QueryKind string

// Query kinds a grant may allow.
const (
	ByArbeidstaker       QueryKind = "arbeidstaker"
	ByArbeidssted        QueryKind = "arbeidssted"
	ByOpplysningspliktig QueryKind = "opplysningspliktig"
	// Antall is counts of active arbeidsforhold per underenhet (Rule AA-10 applies).
	Antall QueryKind = "antall"
)

// ParseQueryKinds reads a comma-separated list of query kinds.
func ParseQueryKinds(s string) ([]QueryKind, error) {
	var out []QueryKind
	for _, part := range strings.Split(s, ",") {
		k := QueryKind(strings.TrimSpace(part))
		switch k {
		case ByArbeidstaker, ByArbeidssted, ByOpplysningspliktig, Antall:
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		default:
			return nil, fmt.Errorf("unknown query kind %q (want arbeidstaker, arbeidssted, opplysningspliktig or antall)", k)
		}
	}
	return out, nil
}

// Status of a grant, consumer or delegation.
type Status string

// Statuses. A suspended grant can be resumed; an ended one cannot.
const (
	Active    Status = "active"
	Suspended Status = "suspended"
	Ended     Status = "ended"
	// Ceased is a consumer whose organisation has ceased (Rule AA-26).
	Ceased Status = "ceased"
)

// Consumer is an organisation that has applied for access (konsument).
type Consumer struct {
	Orgnr  string
	Navn   string
	Status Status // Active or Ceased
	// Category groups consumers for policy, e.g. whether a person may see their lookups (Rule AA-17).
	Category string
}

// Grant is a decision (vedtak): one consumer gets packages through one channel
// in one environment, on a legal basis and for a purpose.
type Grant struct {
	ID              string
	Consumer        string   // orgnr
	Packages        []string // refs "id@version"
	Channel         Channel
	Env             register.Env
	LegalBasis      string // hjemmel for utlevering
	ProcessingBasis string // behandlingsgrunnlag (GDPR art. 6)
	Purpose         string // formål
	QueryKinds      []QueryKind
	ValidFrom       time.Time
	ValidTo         *time.Time // nil: until ended
	RateLimit       int        // requests per second; 0 means the default
	Status          Status
	StatusReason    string // why the status is what it is, for people
	// Suspension is who suspended the grant while it is Suspended, and so
	// what resumes it (Rule AA-25); "" otherwise.
	Suspension SuspensionCause `json:",omitempty"`
	// Consent: the legal basis for disclosure is the data subjects' consent, so
	// a person's data is delivered only under their valid consent for this
	// consumer and purpose (Rules SK-01, SK-08).
	Consent bool
	// ApplicationID is the application (søknad) the grant was decided on, "" for grants made by the CLI.
	ApplicationID string
}

// DefaultRateLimit is requests per second per consumer (Rule AA-15: 200/s).
const DefaultRateLimit = 200

// ActiveAt reports whether the grant is in force at t.
func (g *Grant) ActiveAt(t time.Time) bool {
	return g.Status == Active && !t.Before(g.ValidFrom) && (g.ValidTo == nil || t.Before(*g.ValidTo))
}

// Delegation lets a data processor act for a consumer (Rules AA-13, SK-04):
// named in the application, resting on a data processing agreement, and only
// as long as the consumer's own access lasts.
type Delegation struct {
	ID        string
	Consumer  string // orgnr of the controller
	Processor string // orgnr of the data processor
	DPARef    string // reference to the data processing agreement, as text (before agreements were records)
	// AgreementID is the data processing agreement the delegation rests on
	// (Rule SK-04); "" only for a delegation made before agreements were
	// records, which the register's case workers resolve.
	AgreementID string `json:",omitempty"`
	// Channels and Packages are what is delegated; the agreement covers
	// them. Empty only for a delegation made before agreements were records.
	Channels  []Channel `json:",omitempty"`
	Packages  []string  `json:",omitempty"` // refs "id@version"
	ValidFrom time.Time
	ValidTo   *time.Time
	// Status is Active, Suspended (its agreement is under a stop order,
	// Rule DPA-11) or Ended.
	Status Status
}

// ActiveAt reports whether the delegation is in force at t.
func (d *Delegation) ActiveAt(t time.Time) bool {
	return d.Status == Active && !t.Before(d.ValidFrom) && (d.ValidTo == nil || t.Before(*d.ValidTo))
}
