package dpa

import (
	"time"

	"deling/internal/access"
)

// Party is one side of an agreement as the document names it.
type Party struct {
	Orgnr string `json:"orgnr"`
	Navn  string `json:"navn"`
}

// Contact is a party's contact person for notices under the agreement (template § 14).
type Contact struct {
	Navn     string `json:"navn"`
	Stilling string `json:"stilling"`
	Epost    string `json:"epost"`
}

// Annex1 is the scope of the processing (vedlegg 1, Rule DPA-01), in the template's order.
type Annex1 struct {
	Purpose           string `json:"formaal"`               // behandlingens formål
	Nature            string `json:"art"`                   // behandlingens art og hensikt
	SubjectCategories string `json:"kategorierRegistrerte"` // kategorier av registrerte
	DataTypes         string `json:"typePersonopplysninger"`
	SpecialCategories string `json:"sensitivePersonopplysninger"` // if relevant
	DeletionRules     string `json:"spesifikkeSletteregler"`      // if any
	// Locations are the countries where the processor itself processes and
	// stores the data; outside the EU/EEA each needs a transfer (Rule DPA-06).
	Locations []string `json:"behandlingssted"`
}

// Annex2 is the technical and organisational security measures (vedlegg 2,
// Rule DPA-01), in the template's order. Each is described, or "ikke relevant".
type Annex2 struct {
	Pseudonymisation string `json:"pseudonymisering"`
	Encryption       string `json:"kryptering"`
	Confidentiality  string `json:"konfidensialitet"`
	Integrity        string `json:"integritet"`
	Availability     string `json:"tilgjengelighet"`
	Resilience       string `json:"robusthet"`
	Physical         string `json:"fysiskSikring"`
	Other            string `json:"andreTiltak"`
}

// SubProcessorEntry is one approved sub-processor as annex 3 lists it (Rule DPA-05).
type SubProcessorEntry struct {
	Navn      string `json:"navn"`
	Orgnr     string `json:"orgnr,omitempty"`        // a Norwegian organisation number, or
	ForeignID string `json:"utenlandskId,omitempty"` // a foreign registration number
	Country   string `json:"land"`
	Task      string `json:"oppgave"` // what it does for the processor
}

// Key identifies the sub-processor across versions and proposals: its
// organisation number, its foreign id, or else its name.
func (e SubProcessorEntry) Key() string {
	switch {
	case e.Orgnr != "":
		return "orgnr:" + e.Orgnr
	case e.ForeignID != "":
		return "id:" + e.Country + ":" + e.ForeignID
	}
	return "navn:" + e.Navn
}

// Content is what a version says: the text both parties sign (Rule DPA-01).
// Dates are calendar dates, "YYYY-MM-DD", so that they hash and print the
// same everywhere.
type Content struct {
	Controller        Party   `json:"behandlingsansvarlig"`
	Processor         Party   `json:"databehandler"`
	MainAgreement     string  `json:"hovedavtale"`          // the main agreement's name or reference
	MainAgreementDate string  `json:"hovedavtaleDato"`      // YYYY-MM-DD
	ValidTo           string  `json:"gjelderTil,omitempty"` // YYYY-MM-DD; "": as long as the processor processes for the controller
	ControllerContact Contact `json:"kontaktBehandlingsansvarlig"`
	ProcessorContact  Contact `json:"kontaktDatabehandler"`
	// Channels and Packages are what of the register the processor may
	// handle: a delegation covers no more (Rule SK-04).
	Channels []access.Channel `json:"kanaler"`
	Packages []string         `json:"pakker"` // refs "id@version"
	// BreachNoticeHours is the processor's duty to notify the controller
	// of a breach, in hours from its awareness (template § 10.2: [24]; Rule DPA-07).
	BreachNoticeHours int `json:"varslingsfristTimer"`
	// DeletionDays is the agreed time after the end to delete or return all
	// data, backups included, and confirm it in writing (Rule DPA-10).
	DeletionDays int    `json:"slettefristDager"`
	Annex1       Annex1 `json:"vedlegg1"`
	Annex2       Annex2 `json:"vedlegg2"`
	// Annex3 is the approved sub-processors as the version states them
	// (Rule DPA-05); the processor proposes, the controller's signature
	// approves those listed.
	Annex3 []SubProcessorEntry `json:"vedlegg3"`
	// Transfers are the controller's documented instructions for processing
	// outside the EU/EEA that the version carries (Rule DPA-06).
	Transfers []Transfer `json:"overforinger"`
}

// Signature is a role holder's signature of exactly one version's content.
type Signature struct {
	Actor string    // as the log names people: "user:<id>"
	Name  string    // the person's name when they signed
	At    time.Time //
	Hash  string    // the content hash they were shown and signed
}

// Version is one version of an agreement. A change is a new version,
// signed again; old versions are kept (Rule DPA-01).
type Version struct {
	Number        int
	Content       Content
	Status        VersionStatus
	ControllerSig *Signature
	ProcessorSig  *Signature
	// InForceAt is when the version came into force: its second signature.
	InForceAt time.Time
	Note      string // the latest note with a return or a reopening
	CreatedAt time.Time
}

// Agreement is a data processing agreement between a controller (a
// consumer organisation) and a processor, with its versions and where it
// stands (Rules SK-04, DPA-01).
type Agreement struct {
	ID         string
	Controller string // orgnr of the consumer (behandlingsansvarlig)
	Processor  string // orgnr of the data processor
	Status     Status
	Versions   []Version // oldest first; the last is the newest
	Stop       *StopOrder
	Ending     *Ending
	Deletion   *DeletionCertificate
	CreatedAt  time.Time
}

// Newest is the newest version, nil for an agreement without one.
func (a *Agreement) Newest() *Version {
	if len(a.Versions) == 0 {
		return nil
	}
	return &a.Versions[len(a.Versions)-1]
}

// State is the agreement's status and its newest version's.
func (a *Agreement) State() State {
	s := State{Agreement: a.Status}
	if v := a.Newest(); v != nil {
		s.Version = v.Status
	}
	return s
}

// InForce is the version in force at t: the one that came into force last
// at or before t — of two that came into force at the same instant, the
// higher number (the newer supersedes the older); nil when none had.
func (a *Agreement) InForce(t time.Time) *Version {
	var in *Version
	for i := range a.Versions {
		v := &a.Versions[i]
		if (v.Status == VersionSigned || v.Status == VersionSuperseded) && !v.InForceAt.IsZero() && !v.InForceAt.After(t) {
			if in == nil || v.InForceAt.After(in.InForceAt) || (v.InForceAt.Equal(in.InForceAt) && v.Number > in.Number) {
				in = v
			}
		}
	}
	return in
}

// Current is the version in force now, or nil: the newest signed by both.
func (a *Agreement) Current() *Version {
	for i := len(a.Versions) - 1; i >= 0; i-- {
		if a.Versions[i].Status == VersionSigned {
			return &a.Versions[i]
		}
	}
	return nil
}

// ActiveAt reports whether delegations may rest on the agreement at now:
// it is active (not stopped, ended or pending), a version is in force whose
// two signatures are on its content as it is, and its term has not run out.
func (a *Agreement) ActiveAt(now time.Time) bool {
	if a.Status != StatusActive {
		return false
	}
	v := a.InForce(now)
	if v == nil || !v.Valid() {
		return false
	}
	if end, ok := dayEnd(v.Content.ValidTo); ok && !now.Before(end) {
		return false
	}
	return true
}

// TermEnd is the first instant after the term (gjelderTil) of the version
// in force at now; ok is false when there is no version in force or it
// names no term. A delegation resting on the agreement ends no later
// (Rule SK-04).
func (a *Agreement) TermEnd(now time.Time) (end time.Time, ok bool) {
	v := a.InForce(now)
	if v == nil {
		return time.Time{}, false
	}
	return dayEnd(v.Content.ValidTo)
}

// AmendFrom is the content of a new version of a (Rule DPA-01): the
// current version's content, with annex 3 brought up to the sub-processors
// approved at now (Rule DPA-05) and the transfers in force with them.
func (a *Agreement) AmendFrom(subs []SubProcessor, now time.Time) Content {
	v := a.Current()
	if v == nil {
		return Content{}
	}
	c := v.Content.clone()
	c.Annex3 = nil
	for _, s := range Annex3At(a, subs, now) {
		c.Annex3 = append(c.Annex3, s.Entry)
		if s.Transfer != nil && !containsTransfer(c.Transfers, *s.Transfer) {
			c.Transfers = append(c.Transfers, *s.Transfer)
		}
	}
	return c
}

// clone is a deep copy of the content's slices.
func (c Content) clone() Content {
	out := c
	out.Channels = append([]access.Channel(nil), c.Channels...)
	out.Packages = append([]string(nil), c.Packages...)
	out.Annex1.Locations = append([]string(nil), c.Annex1.Locations...)
	out.Annex3 = append([]SubProcessorEntry(nil), c.Annex3...)
	out.Transfers = append([]Transfer(nil), c.Transfers...)
	return out
}

// WithProcessorPart is c with the processor's part taken from p: annex 2,
// the proposed annex 3 and the processor's contact. A processor's save
// changes nothing else.
func (c Content) WithProcessorPart(p Content) Content {
	out := c.clone()
	out.Annex2 = p.Annex2
	out.ProcessorContact = p.ProcessorContact
	out.Annex3 = append([]SubProcessorEntry(nil), p.Annex3...)
	return out
}

// WithControllerPart is c with everything but the processor's part taken
// from p: the controller's save never changes annex 2, the proposed annex 3
// or the processor's contact. Transfers are the controller's instructions
// (Rule DPA-06), so they are the controller's part.
func (c Content) WithControllerPart(p Content) Content {
	out := p.clone()
	out.Annex2 = c.Annex2
	out.ProcessorContact = c.ProcessorContact
	out.Annex3 = append([]SubProcessorEntry(nil), c.Annex3...)
	return out
}

const dateLayout = "2006-01-02"

// dayEnd is the first instant after the calendar date s in Oslo's zone
// (UTC+1 when the zone database is missing); ok is false for "" or a bad date.
func dayEnd(s string) (time.Time, bool) {
	d, err := time.ParseInLocation(dateLayout, s, oslo())
	if err != nil {
		return time.Time{}, false
	}
	return d.AddDate(0, 0, 1), true
}

func oslo() *time.Location {
	if loc, err := time.LoadLocation("Europe/Oslo"); err == nil {
		return loc
	}
	return time.FixedZone("CET", 3600)
}
