package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"deling/internal/access"
	"deling/internal/dpa"
	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/post"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/token"
	"deling/internal/web"
)

// demoConsumer is one organisation the demo sets up.
type demoConsumer struct {
	n        int // SyntheticOrgnr number
	name     string
	packages []string
	kinds    []access.QueryKind
	// processor: the client belongs to a data processor acting for this consumer.
	processorN    int
	processorName string
	file          string
	says          string
	web           bool // also a web-lookup grant
	extract       bool // also an extract grant
	// category is the consumer category (serve --insight-categories): the
	// demo shows persons the lookups of consumers in DemoInsightCategory.
	category string
}

// DemoInsightCategory is the consumer category whose lookups persons see in the
// demo (serve --demo sets --insight-categories to it unless given).
const DemoInsightCategory = "kommune"

var demoConsumers = []demoConsumer{
	{n: 9_100_001, name: "Demo kommune", packages: []string{"grunnopplysninger@1"},
		kinds: []access.QueryKind{access.ByArbeidstaker}, file: "kommune.json", web: true, category: DemoInsightCategory,
		says: "a narrow grant: basic facts, lookups by person only; persons see its lookups of them"},
	{n: 9_100_002, name: "Demo pensjonskasse", packages: []string{"grunnopplysninger@1", "stillingsdetaljer@1", "permisjoner@1", "historikk@1"},
		kinds:      []access.QueryKind{access.ByArbeidstaker, access.ByArbeidssted, access.ByOpplysningspliktig, access.Antall},
		processorN: 9_100_003, processorName: "Demo systemleverandør AS", file: "leverandor-for-pensjonskasse.json", extract: true, category: "pensjon",
		says: "a wider grant and an extract grant (docs/EXTRACTS.md), used through its data processor Demo systemleverandør AS"},
}

// setUpDemo seeds a small register on first start, makes the demo consumers,
// their grants and client keys, writes the client files into the data
// directory, and prints a command that makes a lookup with each.
func setUpDemo(ctx context.Context, g *globals, db *store.DB, persons int, issuer string, stdout io.Writer) error {
	counts, err := db.Count(ctx)
	if err != nil {
		return err
	}
	if counts.Persons == 0 {
		res, err := seedPopulation(ctx, db, register.PopulationConfig{Persons: persons, Seed: 1, AsOf: register.Date(time.Now().Format(time.DateOnly))}, io.Discard)
		if err != nil {
			return err
		}
		if err := db.CatchUp(ctx); err != nil { // with --db-read: the register is read back below
			return err
		}
		fmt.Fprintf(stdout, "demo: seeded %s, %s and %s arbeidsforhold into %s\n",
			count(res.persons, "synthetic person", "synthetic persons"), count(res.organisations, "organisation", "organisations"), thousands(res.arbeidsforhold), g.where())
	} else {
		fmt.Fprintf(stdout, "demo: the register in %s already holds %s and %s arbeidsforhold\n",
			g.where(), count(counts.Persons, "person", "persons"), thousands(counts.Arbeidsforhold))
	}
	dir := filepath.Join(g.data, "demo-clients")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	person, err := demoPerson(ctx, db)
	if err != nil {
		return err
	}
	if err := demoTerms(ctx, db); err != nil {
		return err
	}
	for _, d := range demoConsumers {
		orgnr := string(ident.SyntheticOrgnr(d.n))
		if _, err := db.Consumer(ctx, orgnr); errors.Is(err, store.ErrNotFound) {
			if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: orgnr, Navn: d.name, Status: access.Active, Category: d.category}, "demo"); err != nil {
				return err
			}
			if _, err := db.AddGrant(ctx, access.Grant{Consumer: orgnr, Packages: d.packages, Channel: access.ChannelAPI, Env: register.EnvTest,
				LegalBasis: "Aa-registerforskriften § 10", ProcessingBasis: "GDPR art. 6 nr. 1 bokstav e", Purpose: "Demo: saksbehandling",
				QueryKinds: d.kinds, ValidFrom: time.Now().Add(-time.Minute), Status: access.Active}, "demo"); err != nil {
				return err
			}
			if d.web {
				// Web lookup for the demo's web-lookup user (oppslag@kommune.demo).
				if _, err := db.AddGrant(ctx, access.Grant{Consumer: orgnr, Packages: d.packages, Channel: access.ChannelWeb, Env: register.EnvTest,
					LegalBasis: "Aa-registerforskriften § 10", ProcessingBasis: "GDPR art. 6 nr. 1 bokstav e", Purpose: "Demo: saksbehandling",
					QueryKinds: []access.QueryKind{access.ByArbeidstaker, access.ByArbeidssted, access.ByOpplysningspliktig},
					ValidFrom:  time.Now().Add(-time.Minute), Status: access.Active}, "demo"); err != nil {
					return err
				}
			}
			if d.extract {
				// Extracts (docs/EXTRACTS.md) of persons or employers.
				if _, err := db.AddGrant(ctx, access.Grant{Consumer: orgnr, Packages: []string{"grunnopplysninger@1", "stillingsdetaljer@1"}, Channel: access.ChannelExtract, Env: register.EnvTest,
					LegalBasis: "Aa-registerforskriften § 10", ProcessingBasis: "GDPR art. 6 nr. 1 bokstav e", Purpose: "Demo: kontroll av pensjonsopptjening",
					QueryKinds: []access.QueryKind{access.ByArbeidstaker, access.ByArbeidssted, access.ByOpplysningspliktig},
					ValidFrom:  time.Now().Add(-time.Minute), Status: access.Active}, "demo"); err != nil {
					return err
				}
			}
		} else if err != nil {
			return err
		}
		clientOrg := orgnr
		if d.processorN != 0 {
			clientOrg = string(ident.SyntheticOrgnr(d.processorN))
			if ds, err := db.Delegations(ctx, orgnr); err != nil {
				return err
			} else if len(ds) == 0 {
				if err := demoDelegation(ctx, db, d.name, orgnr, clientOrg, d.packages); err != nil {
					return err
				}
			}
		}
		file, err := demoClient(ctx, db, dir, d, orgnr, clientOrg, issuer)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\ndemo: %s (%s), %s. Its client file is %s. Try:\n", d.name, orgnr, d.says, file)
		fmt.Fprintf(stdout, "  curl -H \"Authorization: Bearer $(go run ./cmd/deling token --client %s)\" \\\n       -H \"Nav-Personident: %s\" %sapi/v2/arbeidstaker/arbeidsforhold\n",
			file, person, issuer)
	}
	if err := demoPostSender(ctx, db); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\ndemo: Demo kommune is a sender of digital post (docs/POST.md): its client sends with --scope %s\n", post.ScopeWrite)
	fmt.Fprintf(stdout, "\ndemo: every lookup is in the signed lookup log (%saudit/checkpoint, key at %saudit/key);\n", issuer, issuer)
	fmt.Fprintf(stdout, "      the register's staff see who has access and who looked (token in %s):\n", filepath.Join(g.data, "admin-token"))
	fmt.Fprintf(stdout, "  curl -H \"Authorization: Bearer $(cat %s)\" -H \"Nav-Personident: %s\" %sapi/innsyn/person\n",
		filepath.Join(g.data, "admin-token"), person, issuer)
	fmt.Fprintf(stdout, "      persons see the lookups of consumers in the category %q (Demo kommune), with receipts for 'deling audit prove'\n\n", DemoInsightCategory)
	return nil
}

// demoPostSender registers Demo kommune as an eligible sender of digital
// post in every category, once (Rules DPV-01, DPV-02, DPV-09; docs/POST.md).
func demoPostSender(ctx context.Context, db *store.DB) error {
	org := ident.SyntheticOrgnr(demoConsumers[0].n)
	if _, err := db.PostSender(ctx, org); !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return db.RegisterPostSender(ctx, post.Sender{Orgnr: org, Name: demoConsumers[0].name, Basis: "kommune (offentlig virksomhet)", RegisteredBy: "demo",
		ServiceLead: post.Contact{Name: "Liv Leder", Email: "leder@kommune.demo", Phone: "+4790000001"},
		Shared:      &post.Contact{Email: "post@kommune.demo", Phone: "+4790000002"}, Categories: post.Categories()}, "demo")
}

// demoClient returns the client file of a demo consumer's client for this
// address: DIR/<file> when it is new or already points at issuer. A file that
// points at another address (a demo started with another --addr on the same
// data) is never rewritten: this address gets a file of its own,
// <name>-<port>.json, so both demos' files keep working.
func demoClient(ctx context.Context, db *store.DB, dir string, d demoConsumer, consumer, clientOrg, issuer string) (string, error) {
	name := strings.TrimSuffix(d.file, ".json")
	candidates := []string{filepath.Join(dir, d.file)}
	if u, err := url.Parse(issuer); err == nil && u.Port() != "" {
		candidates = append(candidates, filepath.Join(dir, name+"-"+u.Port()+".json"))
	}
	for _, file := range candidates {
		cf, err := token.LoadClientFile(file)
		switch {
		case errors.Is(err, os.ErrNotExist):
			cf, err := keptClient(ctx, db, "", clientOrg, "demo-"+name, "RS256", "demo client", "demo")
			if err != nil {
				return "", err
			}
			cf.TokenEndpoint, cf.Audience, cf.Scope = issuer+"token", issuer, web.DefaultAPIScope
			if d.processorN != 0 {
				cf.ConsumerOrg = consumer
			}
			return file, cf.Write(file)
		case err != nil || cf.TokenEndpoint != issuer+"token":
			continue // another demo's file, or not a client file: left as it is
		}
		// The file is this address's: keep it, with its client active.
		c, err := db.Client(ctx, cf.ClientID)
		if err != nil || c.Orgnr != clientOrg {
			return "", fmt.Errorf("%s names client %s, which this register does not know as %s's; remove the file to make a new one", file, cf.ClientID, clientOrg)
		}
		if !c.Active {
			if err := db.SetClientActive(ctx, cf.ClientID, true); err != nil {
				return "", err
			}
		}
		return file, nil
	}
	return "", fmt.Errorf("%s belong to demos on other addresses; remove them to make new ones", strings.Join(candidates, " and "))
}

// demoTerms publishes the first version of each kind of terms when none is
// published yet, so that /vilkar has the terms an application asks the
// applicant to accept (Rules AA-24, SK-02).
func demoTerms(ctx context.Context, db *store.DB) error {
	versions, err := db.TermsVersions(ctx)
	if err != nil {
		return err
	}
	for _, kind := range governance.TermsKinds() {
		if slices.ContainsFunc(versions, func(v governance.TermsVersion) bool { return v.Kind == kind }) {
			continue
		}
		title := "Demo: " + kind.Label()
		body := "Dette er demoens " + kind.Label() + ". De er ikke ekte vilkår.\n\n" +
			"Konsumenten bruker opplysningene bare til formålet i vedtaket, innenfor vedtakets hjemmel, og sørger for at bare de som trenger dem i arbeidet sitt får tilgang.\n\n" +
			"Hvert oppslag logges, og registeret kan stanse tilgangen ved brudd på vilkårene."
		n := governance.Notice{Title: "Nye vilkår: " + title, Body: "Registerforvalteren har publisert " + kind.Label() + ". Vilkårene gjelder fra i dag."}
		letter := governance.Letter{Subject: "Nye vilkår for Aa-registeret: " + title, Body: n.Body}
		if _, _, err := db.PublishTerms(ctx, governance.TermsVersion{Kind: kind, Title: title, Body: body}, 0, n, letter, "demo"); err != nil {
			return fmt.Errorf("publish demo terms: %w", err)
		}
	}
	return nil
}

// newClientKey makes a key pair for a client: the public key to register and
// the client file (with the private key) its owner keeps.
func newClientKey(alg, clientID string) (store.ClientKey, token.ClientFile, error) {
	priv, kid, jwk, err := token.NewClientKey(alg)
	if err != nil {
		return store.ClientKey{}, token.ClientFile{}, err
	}
	pemText, err := token.EncodePrivateKey(priv)
	if err != nil {
		return store.ClientKey{}, token.ClientFile{}, err
	}
	return store.ClientKey{KID: kid, Kind: store.KeyJWK, Material: string(jwk)},
		token.ClientFile{ClientID: clientID, KID: kid, PrivateKeyPEM: pemText, Scope: web.DefaultAPIScope}, nil
}

// keptClient returns the client whose key is kept in file when the store knows
// it as a client of orgnr (reactivated if it was deactivated). Otherwise it
// registers a new client, named id plus a number, with a fresh key, and
// returns its file unwritten.
func keptClient(ctx context.Context, db *store.DB, file, orgnr, id, alg, description, actor string) (token.ClientFile, error) {
	if cf, err := token.LoadClientFile(file); err == nil {
		if c, err := db.Client(ctx, cf.ClientID); err == nil && c.Orgnr == orgnr {
			if !c.Active {
				if err := db.SetClientActive(ctx, cf.ClientID, true); err != nil {
					return cf, err
				}
			}
			return cf, nil
		}
	}
	id = fmt.Sprintf("%s-%d", id, time.Now().UnixNano()%1_000_000)
	key, cf, err := newClientKey(alg, id)
	if err != nil {
		return cf, err
	}
	err = db.AddClient(ctx, store.ClientInfo{ID: id, Orgnr: orgnr, Description: description, Keys: []store.ClientKey{key}}, actor)
	return cf, err
}

// demoPerson finds a person whose arbeidsforhold a consumer may see, for the printed example.
func demoPerson(ctx context.Context, db *store.DB) (string, error) {
	ids, err := db.SampleArbeidstakere(ctx, "8", 1)
	if err != nil {
		return "", err
	}
	if len(ids) == 0 {
		return "", errors.New("no person with arbeidsforhold to show")
	}
	return ids[0], nil
}

// demoDelegation puts a data processing agreement in force between the
// demo consumer and its processor — drafted, completed and signed by a role
// holder of each side, as in the portal (Rule DPA-01) — and delegates every
// channel and the packages under it (Rule SK-04).
func demoDelegation(ctx context.Context, db *store.DB, name, consumer, processor string, packages []string) error {
	for _, p := range []string{"grunnopplysninger@1", "stillingsdetaljer@1"} { // the demo's extracts
		if !slices.Contains(packages, p) {
			packages = append(slices.Clone(packages), p)
		}
	}
	cat, err := access.ParseCatalogue(access.DefaultPackages())
	if err != nil {
		return err
	}
	people := make([]store.DPAActor, 2)
	for i, org := range []string{consumer, processor} {
		u, err := db.CreateUser(ctx, governance.User{Email: "dba-" + org + "@demo.example", Navn: "Demo rolleinnehaver " + org}, "",
			[]governance.Membership{{Org: org, Role: governance.Rolleinnehaver}}, "demo")
		if err != nil {
			return err
		}
		people[i] = store.DPAActor{UserID: u.ID, Name: u.Navn}
	}
	c := dpa.Content{
		Controller: dpa.Party{Orgnr: consumer, Navn: name}, Processor: dpa.Party{Orgnr: processor, Navn: "Demo systemleverandør"},
		MainAgreement: "Demo driftsavtale", MainAgreementDate: time.Now().Format(time.DateOnly),
		ControllerContact: dpa.Contact{Navn: "Demo kontakt", Stilling: "Personvernrådgiver", Epost: "dba-" + consumer + "@demo.example"},
		ProcessorContact:  dpa.Contact{Navn: "Demo kontakt", Stilling: "Sikkerhetsleder", Epost: "dba-" + processor + "@demo.example"},
		Channels:          []access.Channel{access.ChannelAPI, access.ChannelWeb, access.ChannelExtract}, Packages: packages,
		BreachNoticeHours: 24, DeletionDays: 30,
		Annex1: dpa.Annex1{Purpose: "Demo: saksbehandling.", Nature: "Drift av fagsystem.", SubjectCategories: "Arbeidstakere",
			DataTypes: "Arbeidsforhold", Locations: []string{"Norge"}},
		Annex2: dpa.Annex2{Pseudonymisation: "ikke relevant", Encryption: "TLS", Confidentiality: "Tilgangsstyring", Integrity: "Endringslogg",
			Availability: "Backup", Resilience: "To datasentre", Physical: "Adgangskontroll", Other: "ikke relevant"},
	}
	a, err := db.NegotiateAgreement(ctx, store.DPARules{Env: register.EnvTest, Cat: cat}, c, people[0], people[1])
	if err != nil {
		return fmt.Errorf("demo agreement: %w", err)
	}
	_, err = db.AddDelegation(ctx, access.Delegation{Consumer: consumer, Processor: processor, AgreementID: a.ID, DPARef: a.ID,
		Channels: c.Channels, Packages: packages, ValidFrom: time.Now().Add(-time.Minute)}, "demo")
	return err
}
