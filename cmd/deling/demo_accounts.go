package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/post"
	"deling/internal/store"
)

// demoAccount is one portal account the demo makes: one for each role.
type demoAccount struct {
	email, navn string
	orgN        int // SyntheticOrgnr number; 0: the register authority, or none for a person
	role        governance.Role
}

var demoAccounts = []demoAccount{
	{"saksbehandler@register.demo", "Sara Saksbehandler", 0, governance.Saksbehandler},
	{"forvalter@register.demo", "Frode Forvalter", 0, governance.Forvalter},
	{"personvernombud@register.demo", "Pia Personvernombud", 0, governance.Personvernombud},
	{"leder@kommune.demo", "Liv Leder", 9_100_001, governance.Rolleinnehaver},
	{"admin@kommune.demo", "Anders Administrator", 9_100_001, governance.Administrator},
	{"utvikler@kommune.demo", "Una Utvikler", 9_100_001, governance.Utvikler},
	{"oppslag@kommune.demo", "Ole Oppslag", 9_100_001, governance.Oppslagsbruker},
	{"leder@bank.demo", "Berit Bankleder", 9_100_004, governance.Rolleinnehaver},
	{"admin@bank.demo", "Bjørn Bankadmin", 9_100_004, governance.Administrator},
	{"databehandler@leverandor.demo", "Dag Databehandler", 9_100_003, governance.Databehandler},
	{"person@innbygger.demo", "Per Person", 0, governance.Person},
}

// demoRoleCodes are the Enhetsregisteret roles the demo records for some
// accounts (Rule DPV-03: a key role gives Post/Arkiv automatically): the
// kommune's leader is its daglig leder, the bank's its daglig leder and
// styrets leder, the bank's administrator a board member (no key role).
var demoRoleCodes = map[string][]post.RoleCode{
	"leder@kommune.demo": {"DAGL"},
	"leder@bank.demo":    {"DAGL", "LEDE"},
	"admin@bank.demo":    {"MEDL"},
}

// DemoApplicantOrg is the demo organisation that has no access yet and may apply.
const demoApplicantN = 9_100_004

// setUpDemoAccounts makes the demo's portal accounts on first start, keeps their
// passwords in DATA/demo-accounts.txt (mode 0600) and prints them.
func setUpDemoAccounts(ctx context.Context, g *globals, db *store.DB, base string, stdout io.Writer) error {
	file := filepath.Join(g.data, "demo-accounts.txt")
	kept, err := readDemoPasswords(file)
	if err != nil {
		return err
	}
	person, err := demoPerson(ctx, db)
	if err != nil {
		return err
	}
	var lines []string
	tw := tabwriter.NewWriter(stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintf(stdout, "demo: portal accounts, one for each role (sign in at %s/logg-inn; passwords kept in %s):\n", base, file)
	for _, a := range demoAccounts {
		pw := kept[a.email]
		if _, _, err := db.UserByEmail(ctx, a.email); errors.Is(err, store.ErrNotFound) {
			if pw == "" {
				pw = governance.NewPassword()
			}
			hash, err := governance.HashPassword(pw)
			if err != nil {
				return err
			}
			u := governance.User{Email: a.email, Navn: a.navn}
			org := governance.AuthorityOrg
			switch {
			case a.role == governance.Person:
				u.PID, org = person, ""
			case a.orgN != 0:
				org = string(ident.SyntheticOrgnr(a.orgN))
			}
			made, err := db.CreateUser(ctx, u, hash, []governance.Membership{{Org: org, Role: a.role}}, "demo")
			if err != nil {
				return err
			}
			if codes := demoRoleCodes[a.email]; codes != nil {
				if err := db.SetPostRoleCodes(ctx, made.ID, ident.Orgnr(org), codes, "demo"); err != nil {
					return err
				}
			}
		} else if err != nil {
			return err
		}
		if pw == "" {
			pw = "(changed: not in " + filepath.Base(file) + ")"
		}
		lines = append(lines, a.email+" "+pw)
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", a.role.Label(), a.email, pw)
	}
	tw.Flush()
	fmt.Fprintln(stdout)
	return os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
}

func readDemoPasswords(file string) (map[string]string, error) {
	out := map[string]string{}
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if email, pw, ok := strings.Cut(sc.Text(), " "); ok && !strings.HasPrefix(pw, "(") {
			out[email] = pw
		}
	}
	return out, sc.Err()
}
