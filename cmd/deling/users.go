package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/post"
	"deling/internal/register"
	"deling/internal/store"
	"deling/internal/web/portal/openid"
)

// runUser is "deling user add|list|disable|link|unlink|identities|roles": portal accounts, e.g. the register's first administrator.
func runUser(ctx context.Context, g *globals, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	return sub("user", args, stderr, map[string]func([]string) error{
		"add": func(args []string) error {
			fs := newFlagSet("user add", "user add --email E --navn NAME --role ROLE [--org ORGNR] [--password-stdin]", g, stderr)
			email := fs.String("email", "", "e-mail address, the account's name")
			navn := fs.String("navn", "", "the person's name")
			role := fs.String("role", "", "saksbehandler, forvalter, personvernombud; rolleinnehaver, administrator, utvikler, oppslagsbruker, databehandler (with --org); person (fødselsnummer on standard input)")
			org := fs.String("org", "", "orgnr the role is held for (consumer and processor roles)")
			fromStdin := fs.Bool("password-stdin", false, "read the password from standard input (default: make one and print it)")
			return withDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				r, err := governance.ParseRole(*role)
				if err != nil {
					return fmt.Errorf("--role: %w", err)
				}
				u := governance.User{Email: strings.TrimSpace(*email), Navn: strings.TrimSpace(*navn)}
				if !governance.ValidEmail(u.Email) || u.Navn == "" {
					return errors.New("--email and --navn are required, and the address must be valid")
				}
				m := governance.Membership{Role: r}
				switch {
				case r.ForAuthority():
					m.Org = governance.AuthorityOrg
				case r.ForOrganisation():
					if m.Org, err = orgnrFlag("org", *org, env); err != nil {
						return err
					}
				case r == governance.Person:
					pid, err := readPID(stdin, *fromStdin)
					if err != nil {
						return err
					}
					p, err := ident.ParsePerson(pid)
					if err != nil {
						return fmt.Errorf("fødselsnummer: %w", err)
					}
					if env == register.EnvTest && !p.IsSynthetic() {
						return errors.New("a test environment takes synthetic persons only (Rule AA-14)")
					}
					u.PID = pid
				}
				pw := governance.NewPassword()
				if *fromStdin {
					line, err := bufio.NewReader(stdin).ReadString('\n')
					if err != nil && !errors.Is(err, io.EOF) {
						return err
					}
					pw = strings.TrimRight(line, "\r\n")
					if msg := governance.CheckPasswordPolicy(pw); msg != "" {
						return errors.New(msg)
					}
				}
				hash, err := governance.HashPassword(pw)
				if err != nil {
					return err
				}
				u.MustChangePassword = !*fromStdin // a password printed to the operator is changed at the first sign-in
				if _, err := db.CreateUser(ctx, u, hash, []governance.Membership{m}, actor(getenv)); err != nil {
					if errors.Is(err, store.ErrExists) {
						return fmt.Errorf("an account with e-mail %s exists", u.Email)
					}
					return err
				}
				fmt.Fprintf(stdout, "added %s as %s\n", u.Email, r.Label())
				if !*fromStdin {
					fmt.Fprintf(stdout, "password: %s (to be changed at the first sign-in)\n", pw)
				}
				return nil
			})
		},
		"list": func(args []string) error {
			fs := newFlagSet("user list", "user list --org ORGNR|register", g, stderr)
			org := fs.String("org", governance.AuthorityOrg, "organisation: an orgnr, or register for the authority's staff")
			return withExistingDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				ms, err := db.OrgMembers(ctx, *org)
				if err != nil {
					return err
				}
				// Rule DPV-03: the Enhetsregisteret roles recorded (deling user roles).
				codes, err := db.PostRoleCodes(ctx, ident.Orgnr(*org))
				if err != nil {
					return err
				}
				standIn, err := db.PostRoleStandIn(ctx, ident.Orgnr(*org))
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
				fmt.Fprintln(tw, "E-POST\tNAVN\tROLLER\tROLLEKODER\tSIST GJENNOMGÅTT")
				for _, m := range ms {
					var roles, rcs []string
					for _, r := range m.Roles {
						roles = append(roles, string(r.Role))
					}
					for _, c := range codes[m.User.ID] {
						rcs = append(rcs, string(c))
					}
					switch {
					case standIn && governance.Has(m.Roles, *org, governance.Rolleinnehaver):
						rcs = []string{"(ikke registrert: som DAGL)"}
					case len(rcs) == 0:
						rcs = []string{"-"}
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", m.User.Email, m.User.Navn, strings.Join(roles, ","), strings.Join(rcs, ","), m.Roles[0].ReviewedAt.Format("2006-01-02"))
				}
				return tw.Flush()
			})
		},
		"disable": func(args []string) error {
			fs := newFlagSet("user disable", "user disable --email E", g, stderr)
			email := fs.String("email", "", "the account's e-mail address")
			return withExistingDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				u, _, err := db.UserByEmail(ctx, *email)
				if err != nil {
					return err
				}
				err = db.DisableUser(ctx, u.ID, actor(getenv))
				if lm, ok := errors.AsType[*store.LastManagerError](err); ok && lm.Org == governance.AuthorityOrg {
					return fmt.Errorf("%s is not disabled: it is the register's last forvalter; give another account the forvalter role first (in the portal, %s, or a new account with deling user add --role forvalter): %w", u.Email, "Ansatte i registeret", lm)
				} else if ok {
					return fmt.Errorf("%s is not disabled: it is the last administrator or role holder of %s (Rule AA-27); give another account of %s that role first: %w", u.Email, lm.Org, lm.Org, lm)
				} else if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "disabled %s: signed out at the next request\n", u.Email)
				return nil
			})
		},
		"link": func(args []string) error {
			fs := newFlagSet("user link", "user link --email E --issuer URL --subject SUB", g, stderr)
			email := fs.String("email", "", "the account's e-mail address")
			issuer := fs.String("issuer", "", "the OpenID Connect provider's issuer URL, as in --staff-issuer")
			subject := fs.String("subject", "", "the identity's subject at the provider (sub), shown to the person when a sign-in is refused")
			return withExistingDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				sub := strings.TrimSpace(*subject)
				if *issuer == "" || sub == "" {
					return errors.New("--issuer and --subject are required")
				}
				if err := openid.CheckIssuer(*issuer); err != nil {
					return fmt.Errorf("--issuer: %w", err)
				}
				u, err := accountByEmail(ctx, db, *email)
				if err != nil {
					return err
				}
				// Warnings, not refusals: the forvalter may link ahead of the role
				// or of the provider's configuration.
				if staff := getenv("DELING_STAFF_ISSUER"); staff != "" && staff != *issuer {
					fmt.Fprintf(stderr, "warning: the issuer is not DELING_STAFF_ISSUER (%s): the staff's sign-in will not find this link\n", staff)
				}
				ms, err := db.Memberships(ctx, u.ID)
				if err != nil {
					return err
				}
				if !slices.ContainsFunc(ms, func(m governance.Membership) bool { return m.Org == governance.AuthorityOrg }) {
					fmt.Fprintf(stderr, "warning: %s holds no role at the register: the staff's sign-in refuses the account\n", u.Email)
				}
				switch err := db.LinkIdentity(ctx, u.ID, store.Identity{Issuer: *issuer, Subject: sub}, actor(getenv)); {
				case errors.Is(err, store.ErrExists):
					return errors.New("that identity is linked to an account already")
				case err != nil:
					return err
				}
				fmt.Fprintf(stdout, "linked %s to %s at %s: signs in with OpenID Connect\n", u.Email, sub, *issuer)
				return nil
			})
		},
		"unlink": func(args []string) error {
			fs := newFlagSet("user unlink", "user unlink --email E --issuer URL", g, stderr)
			email := fs.String("email", "", "the account's e-mail address")
			issuer := fs.String("issuer", "", "the OpenID Connect provider's issuer URL, as deling user identities lists it")
			return withExistingDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				if *issuer == "" {
					return errors.New("--issuer is required")
				}
				u, err := accountByEmail(ctx, db, *email)
				if err != nil {
					return err
				}
				n, err := db.UnlinkIdentity(ctx, u.ID, *issuer, actor(getenv))
				if errors.Is(err, store.ErrNotFound) {
					return fmt.Errorf("%s has no identity at %s", u.Email, *issuer)
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(stdout, "unlinked %d identity(ies) of %s at %s\n", n, u.Email, *issuer)
				return nil
			})
		},
		"identities": func(args []string) error {
			fs := newFlagSet("user identities", "user identities --email E", g, stderr)
			email := fs.String("email", "", "the account's e-mail address")
			return withExistingDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				u, err := accountByEmail(ctx, db, *email)
				if err != nil {
					return err
				}
				ids, err := db.Identities(ctx, u.ID)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
				fmt.Fprintln(tw, "UTSTEDER\tSUBJEKT\tKOBLET")
				for _, id := range ids {
					fmt.Fprintf(tw, "%s\t%s\t%s\n", id.Issuer, id.Subject, id.Linked.Format("2006-01-02"))
				}
				return tw.Flush()
			})
		},
		"roles": func(args []string) error {
			fs := newFlagSet("user roles", "user roles --email E --org ORGNR --codes DAGL,LEDE", g, stderr)
			email := fs.String("email", "", "the account's e-mail address")
			org := fs.String("org", "", "orgnr of the organisation the roles are registered in")
			codes := fs.String("codes", "", "the person's roles there in Enhetsregisteret, comma-separated role codes (DAGL, LEDE, INNH, DTPR, DTSO, KOMP, BEST, …); empty: none")
			return withExistingDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				o, err := orgnrFlag("org", *org, env)
				if err != nil {
					return err
				}
				// Rule DPV-03: the key roles that give Post/Arkiv automatically.
				var rcs []post.RoleCode
				var labels []string
				for c := range strings.SplitSeq(*codes, ",") {
					if c = strings.ToUpper(strings.TrimSpace(c)); c == "" {
						continue
					}
					rc, ok := post.ParseRoleCode(c)
					if !ok {
						return fmt.Errorf("--codes: %q is not an Enhetsregisteret role code deling knows", c)
					}
					if !slices.Contains(rcs, rc) {
						rcs, labels = append(rcs, rc), append(labels, c+" ("+rc.Label()+")")
					}
				}
				u, _, err := db.UserByEmail(ctx, *email)
				if err != nil {
					return err
				}
				if err := db.SetPostRoleCodes(ctx, u.ID, ident.Orgnr(o), rcs, actor(getenv)); err != nil {
					return err
				}
				if len(labels) == 0 {
					labels = []string{"none"}
				}
				fmt.Fprintf(stdout, "%s in %s: %s\n", u.Email, o, strings.Join(labels, ", "))
				return nil
			})
		},
	}, map[string]string{
		"add":        "make a portal account with a role",
		"link":       "link a portal account to an identity at an OpenID Connect provider (the register's staff)",
		"unlink":     "remove a portal account's identities at an OpenID Connect provider",
		"identities": "list the identities at OpenID Connect providers linked to a portal account",
		"list":       "list portal accounts and their roles",
		"disable":    "disable a portal account: it cannot sign in",
		"roles":      "record a portal account's roles in Enhetsregisteret (key roles read digital post)",
	})
}

// accountByEmail is the account with the e-mail address, with an error a forvalter understands.
func accountByEmail(ctx context.Context, db *store.DB, email string) (governance.User, error) {
	u, _, err := db.UserByEmail(ctx, email)
	if errors.Is(err, store.ErrNotFound) {
		return u, fmt.Errorf("no account with e-mail %s", email)
	}
	return u, err
}

// readPID reads a person's fødselsnummer from standard input's first line
// (never a flag: identifiers stay out of shell history and process lists).
func readPID(stdin io.Reader, passwordToo bool) (string, error) {
	if passwordToo {
		return "", errors.New("a person's account: give the fødselsnummer on standard input, and let deling make the password")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimSpace(line), nil
}
