package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"deling/internal/access"
	"deling/internal/ident"
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
}

var demoConsumers = []demoConsumer{
	{n: 9_100_001, name: "Demo kommune", packages: []string{"grunnopplysninger@1"},
		kinds: []access.QueryKind{access.ByArbeidstaker}, file: "kommune.json", web: true,
		says: "a narrow grant: basic facts, lookups by person only"},
	{n: 9_100_002, name: "Demo pensjonskasse", packages: []string{"grunnopplysninger@1", "stillingsdetaljer@1", "permisjoner@1", "historikk@1"},
		kinds:      []access.QueryKind{access.ByArbeidstaker, access.ByArbeidssted, access.ByOpplysningspliktig, access.Antall},
		processorN: 9_100_003, processorName: "Demo systemleverandør AS", file: "leverandor-for-pensjonskasse.json",
		says: "a wider grant, used through its data processor Demo systemleverandør AS"},
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
		fmt.Fprintf(stdout, "demo: seeded %s synthetic persons, %s organisations and %s arbeidsforhold into %s\n",
			thousands(int64(res.persons)), thousands(int64(res.organisations)), thousands(res.arbeidsforhold), g.where())
	} else {
		fmt.Fprintf(stdout, "demo: the register in %s already holds %s persons and %s arbeidsforhold\n",
			g.where(), thousands(counts.Persons), thousands(counts.Arbeidsforhold))
	}
	dir := filepath.Join(g.data, "demo-clients")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	person, err := demoPerson(ctx, db)
	if err != nil {
		return err
	}
	for _, d := range demoConsumers {
		orgnr := string(ident.SyntheticOrgnr(d.n))
		if _, err := db.Consumer(ctx, orgnr); errors.Is(err, store.ErrNotFound) {
			if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: orgnr, Navn: d.name, Status: access.Active}, "demo"); err != nil {
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
		} else if err != nil {
			return err
		}
		clientOrg := orgnr
		if d.processorN != 0 {
			clientOrg = string(ident.SyntheticOrgnr(d.processorN))
			if ds, err := db.Delegations(ctx, orgnr); err != nil {
				return err
			} else if len(ds) == 0 {
				if _, err := db.AddDelegation(ctx, access.Delegation{Consumer: orgnr, Processor: clientOrg, DPARef: "Demo databehandleravtale 1",
					ValidFrom: time.Now().Add(-time.Minute)}, "demo"); err != nil {
					return err
				}
			}
		}
		file := filepath.Join(dir, d.file)
		cf, err := keptClient(ctx, db, file, clientOrg, "demo-"+d.file[:len(d.file)-5], "RS256", "demo client", "demo")
		if err != nil {
			return err
		}
		cf.TokenEndpoint, cf.Audience, cf.Scope = issuer+"token", issuer, web.DefaultAPIScope
		if d.processorN != 0 {
			cf.ConsumerOrg = orgnr
		}
		if err := cf.Write(file); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "\ndemo: %s (%s), %s. Its client file is %s. Try:\n", d.name, orgnr, d.says, file)
		fmt.Fprintf(stdout, "  curl -H \"Authorization: Bearer $(go run ./cmd/deling token --client %s)\" \\\n       -H \"Nav-Personident: %s\" %sapi/v2/arbeidstaker/arbeidsforhold\n",
			file, person, issuer)
	}
	fmt.Fprintf(stdout, "\ndemo: every lookup is in the signed lookup log (%saudit/checkpoint, key at %saudit/key);\n", issuer, issuer)
	fmt.Fprintf(stdout, "      the register's staff see who has access and who looked (token in %s):\n", filepath.Join(g.data, "admin-token"))
	fmt.Fprintf(stdout, "  curl -H \"Authorization: Bearer $(cat %s)\" -H \"Nav-Personident: %s\" %sapi/innsyn/person\n\n",
		filepath.Join(g.data, "admin-token"), person, issuer)
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
