package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"deling/internal/access"
	"deling/internal/ident"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/token"
	"deling/internal/token/authserver"
)

// actor names who made a change, for the log.
func actor(getenv func(string) string) string {
	if u := getenv("USER"); u != "" {
		return "cli:" + u
	}
	return "cli"
}

// sub dispatches "deling NOUN VERB …" to its verb; about says in a line
// what each verb does, for the noun's help.
func sub(noun string, args []string, stderr io.Writer, verbs map[string]func([]string) error, about map[string]string) error {
	if len(args) > 0 && isHelp(args[0]) {
		return helpText(subUsage(noun, verbs, about))
	}
	if len(args) == 0 || verbs[args[0]] == nil {
		if len(args) > 0 {
			fmt.Fprintf(stderr, "deling %s: unknown command %q\n\n", noun, args[0])
		}
		fmt.Fprint(stderr, subUsage(noun, verbs, about))
		return errUsage
	}
	return verbs[args[0]](args[1:])
}

// subUsage lists a noun's verbs, a line each.
func subUsage(noun string, verbs map[string]func([]string) error, about map[string]string) string {
	names := slices.Sorted(maps.Keys(verbs))
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: deling %s <command> [flags]\n\nCommands:\n", noun)
	for _, n := range names {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, n, about[n])
	}
	fmt.Fprintf(&b, "\nRun 'deling %s <command> -h' for a command's flags.\n", noun)
	return b.String()
}

// orgnrFlag checks an organisation number flag; in a test environment it must be synthetic (Rule AA-14).
func orgnrFlag(name, v string, env register.Env) (string, error) {
	o, err := ident.ParseOrgnr(v)
	if err != nil {
		return "", fmt.Errorf("--%s: %w", name, err)
	}
	if env == register.EnvTest && !o.IsSynthetic() {
		return "", fmt.Errorf("--%s: a test environment takes synthetic organisation numbers only (starting with 2 or 3)", name)
	}
	return string(o), nil
}

func parseDate(name, v string) (time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, v, time.Local)
	if err != nil {
		return t, fmt.Errorf("--%s: want yyyy-MM-dd", name)
	}
	return t, nil
}

// withDB parses a verb's flags, opens the store and runs f.
func withDB(ctx context.Context, g *globals, fs *flag.FlagSet, args []string, f func(db *store.DB, env register.Env) error) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	return openWith(ctx, g, f)
}

// withExistingDB is withDB for a command that reads or changes what is
// there: it refuses a data directory or database deling has not made, where
// withDB would make one.
func withExistingDB(ctx context.Context, g *globals, fs *flag.FlagSet, args []string, f func(db *store.DB, env register.Env) error) error {
	if err := parse(fs, args); err != nil {
		return err
	}
	return openExistingWith(ctx, g, f)
}

// openWith opens the store of the global flags, runs f and closes it.
func openWith(ctx context.Context, g *globals, f func(db *store.DB, env register.Env) error) error {
	return openAndRun(ctx, g, false, f)
}

// openExistingWith is openWith refusing a database deling has not made.
func openExistingWith(ctx context.Context, g *globals, f func(db *store.DB, env register.Env) error) error {
	return openAndRun(ctx, g, true, f)
}

func openAndRun(ctx context.Context, g *globals, existing bool, f func(db *store.DB, env register.Env) error) error {
	env, err := g.environment()
	if err != nil {
		return err
	}
	if _, err := g.logger(io.Discard); err != nil {
		return err
	}
	db, err := g.openDB(ctx, existing)
	if err != nil {
		return err
	}
	defer db.Close()
	return f(db, env)
}

func runConsumer(ctx context.Context, g *globals, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return sub("consumer", args, stderr, map[string]func([]string) error{
		"add": func(args []string) error {
			fs := newFlagSet("consumer add", "consumer add --orgnr N --name NAME [--category C]", g, stderr)
			orgnr := fs.String("orgnr", "", "organisation number")
			name := fs.String("name", "", "organisation name")
			category := fs.String("category", "", "consumer category for policy, e.g. offentlig, privat, pensjon (see serve --insight-categories)")
			return withDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				o, err := orgnrFlag("orgnr", *orgnr, env)
				if err != nil {
					return err
				}
				if strings.TrimSpace(*name) == "" {
					return errors.New("--name is required")
				}
				if err := db.UpsertConsumer(ctx, access.Consumer{Orgnr: o, Navn: *name, Status: access.Active, Category: *category}, actor(getenv)); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "consumer %s %s is registered\n", o, *name)
				return nil
			})
		},
		"cease": func(args []string) error {
			fs := newFlagSet("consumer cease", "consumer cease --orgnr N", g, stderr)
			orgnr := fs.String("orgnr", "", "organisation number")
			return withExistingDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				c, err := db.Consumer(ctx, *orgnr)
				if err != nil {
					return err
				}
				// Rule AA-26: the status, and every grant and delegation ended, in one transaction.
				if _, err := db.CeaseOrganisation(ctx, c.Orgnr, "ceased by the CLI", actor(getenv)); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "consumer %s has ceased: all its access ends now (AA-26)\n", c.Orgnr)
				return nil
			})
		},
		"list": func(args []string) error {
			fs := newFlagSet("consumer list", "consumer list", g, stderr)
			return withExistingDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				cs, err := db.Consumers(ctx)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ORGNR\tNAME\tCATEGORY\tSTATUS")
				for _, c := range cs {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Orgnr, c.Navn, c.Category, c.Status)
				}
				return tw.Flush()
			})
		},
	}, map[string]string{
		"add":   "register a consumer organisation (or rename it)",
		"cease": "end a consumer: every grant and delegation ends at once (AA-26)",
		"list":  "list the consumer organisations",
	})
}

func runClient(ctx context.Context, g *globals, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return sub("client", args, stderr, map[string]func([]string) error{
		"add": func(args []string) error {
			fs := newFlagSet("client add", "client add --orgnr N --id CLIENT-ID (--jwk FILE | --cert FILE | --new-key FILE --issuer URL)", g, stderr)
			orgnr := fs.String("orgnr", "", "the organisation the client belongs to")
			id := fs.String("id", "", "client_id (the iss of its assertions)")
			jwkFile := fs.String("jwk", "", "the client's public key as a JWK file")
			certFile := fs.String("cert", "", "the client's enterprise certificate, PEM")
			newKey := fs.String("new-key", "", "make a key pair and write a client file (with the private key) here")
			issuer := fs.String("issuer", "http://localhost:8080/", "with --new-key: the token server's issuer URL for the client file")
			consumerOrg := fs.String("consumer-org", "", "with --new-key: the consumer a data processor's client acts for")
			return withDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				o, err := orgnrFlag("orgnr", *orgnr, env)
				if err != nil {
					return err
				}
				if *id == "" {
					return errors.New("--id is required")
				}
				info := store.ClientInfo{ID: *id, Orgnr: o}
				var cf *token.ClientFile
				switch {
				case *jwkFile != "":
					b, err := os.ReadFile(*jwkFile)
					if err != nil {
						return err
					}
					k, err := token.ParsePublicJWK(b)
					if err != nil {
						return err
					}
					info.Keys = []store.ClientKey{{KID: k.KID, Kind: store.KeyJWK, Material: string(b)}}
				case *certFile != "":
					b, err := os.ReadFile(*certFile)
					if err != nil {
						return err
					}
					info.Keys = []store.ClientKey{{KID: "cert-" + *id, Kind: store.KeyCertificate, Material: string(b)}}
				case *newKey != "":
					key, file, err := newClientKey("RS256", *id)
					if err != nil {
						return err
					}
					info.Keys = []store.ClientKey{key}
					file.TokenEndpoint, file.Audience, file.ConsumerOrg = *issuer+"token", *issuer, *consumerOrg
					cf = &file
				default:
					return errors.New("give --jwk, --cert or --new-key")
				}
				if err := db.AddClient(ctx, info, actor(getenv)); errors.Is(err, store.ErrStoppedKey) {
					return fmt.Errorf("client %s is not registered: its key is the key of a client the register stopped from a breach case (Rule AV-02); make a new key (--new-key): %w", *id, err)
				} else if errors.Is(err, store.ErrKeyUnusable) {
					// Rule AV-02: another organisation's stopped client, named nowhere.
					return fmt.Errorf("client %s is not registered: its key cannot be used; make a new key (--new-key): %w", *id, store.ErrKeyUnusable)
				} else if err != nil {
					return err
				}
				if cf != nil {
					if err := cf.Write(*newKey); err != nil {
						return err
					}
					fmt.Fprintf(stdout, "client %s of %s is registered; its key is in %s (keep it private)\n", *id, o, *newKey)
					return nil
				}
				fmt.Fprintf(stdout, "client %s of %s is registered\n", *id, o)
				return nil
			})
		},
		"list": func(args []string) error {
			fs := newFlagSet("client list", "client list [--orgnr N]", g, stderr)
			orgnr := fs.String("orgnr", "", "only this organisation's clients")
			return withExistingDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				cs, err := db.Clients(ctx, *orgnr)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "CLIENT-ID\tORGNR\tACTIVE")
				for _, c := range cs {
					fmt.Fprintf(tw, "%s\t%s\t%v\n", c.ID, c.Orgnr, c.Active)
				}
				return tw.Flush()
			})
		},
	}, map[string]string{
		"add":  "register an API client of an organisation, with its public key",
		"list": "list an organisation's API clients and their keys",
	})
}

func runGrant(ctx context.Context, g *globals, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	status := func(verb string, st access.Status) func([]string) error {
		return func(args []string) error {
			fs := newFlagSet("grant "+verb, "grant "+verb+" [--reason TEXT] GRANT-ID", g, stderr)
			reason := fs.String("reason", "", "why (goes to the log and the consumer's notice)")
			return withExistingDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				if fs.NArg() != 1 {
					return errors.New("name one grant id")
				}
				gr, err := db.SetGrantStatus(ctx, fs.Arg(0), st, *reason, actor(getenv))
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "grant %s of %s is now %s; this takes effect on the consumer's next request\n", gr.ID, gr.Consumer, gr.Status)
				return nil
			})
		}
	}
	return sub("grant", args, stderr, map[string]func([]string) error{
		"add": func(args []string) error {
			fs := newFlagSet("grant add", "grant add --consumer N --packages P,… --legal-basis … --processing-basis … --purpose … [flags]", g, stderr)
			consumer := fs.String("consumer", "", "the consumer's organisation number")
			packages := fs.String("packages", "grunnopplysninger", "packages, comma-separated (id or id@version; id means its latest version)")
			channel := fs.String("channel", "api", "api, web or extract")
			env := fs.String("grant-env", "", "environment the grant is for (default: this instance's)")
			legal := fs.String("legal-basis", "", "legal basis for disclosure (hjemmel), required")
			processing := fs.String("processing-basis", "", "processing basis (behandlingsgrunnlag, GDPR art. 6), required")
			purpose := fs.String("purpose", "", "purpose (formål), required")
			kinds := fs.String("query-kinds", "arbeidstaker", "query kinds: arbeidstaker, arbeidssted, opplysningspliktig, antall")
			from := fs.String("valid-from", "", "first day (default now)")
			to := fs.String("valid-to", "", "day the grant ends (default: until ended)")
			rate := fs.Int("rate", 0, fmt.Sprintf("requests per second (default %d)", access.DefaultRateLimit))
			return withDB(ctx, g, fs, args, func(db *store.DB, instanceEnv register.Env) error {
				gr := access.Grant{LegalBasis: *legal, ProcessingBasis: *processing, Purpose: *purpose, RateLimit: *rate, ValidFrom: time.Now(), Env: instanceEnv}
				var err error
				if gr.Consumer, err = orgnrFlag("consumer", *consumer, instanceEnv); err != nil {
					return err
				}
				if _, err := db.Consumer(ctx, gr.Consumer); err != nil {
					return fmt.Errorf("--consumer: %w (add it with 'deling consumer add')", err)
				}
				if gr.Channel, err = access.ParseChannel(*channel); err != nil {
					return err
				}
				if *env != "" {
					if gr.Env, err = register.ParseEnv(*env); err != nil {
						return err
					}
				}
				if gr.QueryKinds, err = access.ParseQueryKinds(*kinds); err != nil {
					return err
				}
				if *legal == "" || *processing == "" || *purpose == "" {
					return errors.New("--legal-basis, --processing-basis and --purpose are required (Rules AA-01, SK-01)")
				}
				if *rate < 0 {
					return errors.New("--rate must not be negative")
				}
				cat, err := access.ParseCatalogue(access.DefaultPackages())
				if err != nil {
					return err
				}
				for _, name := range strings.Split(*packages, ",") {
					p, err := cat.Resolve(strings.TrimSpace(name))
					if err != nil {
						return fmt.Errorf("--packages: %w (see 'deling package list')", err)
					}
					gr.Packages = append(gr.Packages, p.Ref())
				}
				if *from != "" {
					if gr.ValidFrom, err = parseDate("valid-from", *from); err != nil {
						return err
					}
				}
				if *to != "" {
					t, err := parseDate("valid-to", *to)
					if err != nil {
						return err
					}
					if !t.After(gr.ValidFrom) {
						return errors.New("--valid-to must be after --valid-from")
					}
					gr.ValidTo = &t
				}
				gr, err = db.AddGrant(ctx, gr, actor(getenv))
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "grant %s: %s gets %s through %s in %s\n", gr.ID, gr.Consumer, strings.Join(gr.Packages, ", "), gr.Channel, gr.Env)
				return nil
			})
		},
		"list": func(args []string) error {
			fs := newFlagSet("grant list", "grant list [--consumer N]", g, stderr)
			consumer := fs.String("consumer", "", "only this consumer's grants")
			return withExistingDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				gs, err := db.Grants(ctx, *consumer)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tCONSUMER\tCHANNEL\tENV\tSTATUS\tPACKAGES\tQUERY KINDS\tVALID")
				for _, gr := range gs {
					kinds := make([]string, len(gr.QueryKinds))
					for i, k := range gr.QueryKinds {
						kinds[i] = string(k)
					}
					valid := gr.ValidFrom.Format(time.DateOnly) + " –"
					if gr.ValidTo != nil {
						valid += " " + gr.ValidTo.Format(time.DateOnly)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", gr.ID, gr.Consumer, gr.Channel, gr.Env, gr.Status,
						strings.Join(gr.Packages, ","), strings.Join(kinds, ","), valid)
				}
				return tw.Flush()
			})
		},
		"suspend": status("suspend", access.Suspended),
		"resume":  status("resume", access.Active),
		"end":     status("end", access.Ended),
	}, map[string]string{
		"add":     "record a decision (vedtak) giving a consumer packages",
		"list":    "list a consumer's grants",
		"suspend": "suspend a grant: the consumer's next request is refused",
		"resume":  "resume a suspended grant",
		"end":     "end a grant for good",
	})
}

func runPackage(ctx context.Context, g *globals, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && isHelp(args[0]) {
		return helpText("Usage: deling package list [--packages FILE]\n\nCommands:\n  list  the packages (rettighetspakker) and their data elements\n")
	}
	if len(args) == 0 || args[0] != "list" {
		fmt.Fprintln(stderr, "Usage: deling package list [--packages FILE]")
		return errUsage
	}
	fs := flagSetListing("package list", "package list [--packages FILE]", g, stderr) // reads no database, writes no log
	file := fs.String("packages", "", "definitions file (default: the built-in one)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	cat, err := loadCatalogue(*file)
	if err != nil {
		return err
	}
	for _, p := range cat.Packages() {
		fmt.Fprintf(stdout, "%s  %s\n    %s\n    elements: %s\n", p.Ref(), p.Navn, p.Beskrivelse, strings.Join(p.Elements, ", "))
		if p.History {
			fmt.Fprintln(stdout, "    allows historikk=true")
		}
	}
	return nil
}

func runToken(ctx context.Context, g *globals, args []string, stdout, stderr io.Writer) error {
	fs := flagSetListing("token", "token --client FILE [--scope SCOPE] [--assertion]", g, stderr) // reads no database, writes no log
	file := fs.String("client", "", "client file (from 'deling client add --new-key' or the demo)")
	scope := fs.String("scope", "", "the scope to ask for instead of the client file's, e.g. altinn:correspondence.write for digital post (docs/POST.md)")
	assertionOnly := fs.Bool("assertion", false, "print the signed JWT grant (RFC 7523) instead of asking /token for an access token, to send it yourself")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *file == "" {
		fs.Usage()
		return errors.New("--client is required")
	}
	cf, err := token.LoadClientFile(*file)
	if err != nil {
		return err
	}
	if *scope != "" {
		cf.Scope = *scope
	}
	if *assertionOnly {
		a, err := cf.Assertion(time.Now())
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, a)
		return nil
	}
	tok, err := authserver.RequestToken(ctx, cf, &http.Client{Timeout: 10 * time.Second})
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, tok)
	return nil
}

func runKeys(ctx context.Context, g *globals, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return sub("keys", args, stderr, map[string]func([]string) error{
		"rotate": func(args []string) error {
			fs := newFlagSet("keys rotate", "keys rotate", g, stderr)
			return withExistingDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				k, err := token.NewSigningKey(time.Now())
				if err != nil {
					return err
				}
				if err := db.RotateSigningKey(ctx, k, actor(getenv)); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "new signing key %s; running servers sign with it within a minute, and older keys stay published for %s\n", k.KID, token.RetiredKeyGrace)
				return nil
			})
		},
	}, map[string]string{
		"rotate": "make a new signing key for the token server (the old one stays published)",
	})
}
