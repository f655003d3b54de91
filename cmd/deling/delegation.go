package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"deling/internal/access"
	"deling/internal/register"
	"deling/internal/store"
)

// runDelegation is `deling delegation`: a data processor acting for a
// consumer, only under a data processing agreement that covers it (Rule SK-04).
func runDelegation(ctx context.Context, g *globals, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return sub("delegation", args, stderr, map[string]func([]string) error{
		"add": func(args []string) error {
			fs := newFlagSet("delegation add", "delegation add --agreement ID [--channels C,…] [--packages P@V,…] [--valid-to DATE]", g, stderr)
			agreement := fs.String("agreement", "", "the data processing agreement the delegation rests on (required, SK-04)")
			channels := fs.String("channels", "", "channels delegated, comma-separated (default: all the agreement covers)")
			packages := fs.String("packages", "", "package refs id@version delegated, comma-separated (default: all the agreement covers)")
			to := fs.String("valid-to", "", "day the delegation ends (default: the agreement's end, if it has one)")
			return withExistingDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				if *agreement == "" {
					return errors.New("--agreement is required: a processor acts only under a data processing agreement (SK-04)")
				}
				a, err := db.Agreement(ctx, *agreement)
				if err != nil {
					return fmt.Errorf("--agreement: %w", err)
				}
				v := a.InForce(time.Now())
				if v == nil {
					return fmt.Errorf("--agreement: agreement %s is not signed by both parties (SK-04)", a.ID)
				}
				d := access.Delegation{Consumer: a.Controller, Processor: a.Processor, AgreementID: a.ID, DPARef: a.ID,
					Channels: v.Content.Channels, Packages: v.Content.Packages, ValidFrom: time.Now()}
				if *channels != "" {
					d.Channels = nil
					for _, c := range strings.Split(*channels, ",") {
						ch, err := access.ParseChannel(strings.TrimSpace(c))
						if err != nil {
							return err
						}
						d.Channels = append(d.Channels, ch)
					}
				}
				if *packages != "" {
					d.Packages = strings.Split(strings.ReplaceAll(*packages, " ", ""), ",")
				}
				if *to != "" {
					t, err := parseDate("valid-to", *to)
					if err != nil {
						return err
					}
					d.ValidTo = &t
				}
				if d, err = db.AddDelegation(ctx, d, actor(getenv)); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "delegation %s: %s may act for %s under agreement %s\n", d.ID, d.Processor, d.Consumer, d.AgreementID)
				return nil
			})
		},
		"agreements": func(args []string) error {
			fs := newFlagSet("delegation agreements", "delegation agreements [--org N]", g, stderr)
			org := fs.String("org", "", "only the agreements this organisation is a party to")
			return withExistingDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				as, err := db.Agreements(ctx, *org)
				if err != nil {
					return err
				}
				now := time.Now()
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tCONTROLLER\tPROCESSOR\tSTATUS\tIN FORCE\tVALID TO\tCHANNELS\tPACKAGES")
				for _, a := range as {
					version, validTo, chans, pkgs := "-", "-", "-", "-"
					if v := a.InForce(now); v != nil {
						version, chans, pkgs = fmt.Sprintf("version %d", v.Number), joinChannels(v.Content.Channels), strings.Join(v.Content.Packages, ",")
						if v.Content.ValidTo != "" {
							validTo = v.Content.ValidTo
						}
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", a.ID, a.Controller, a.Processor, a.Status, version, validTo, chans, pkgs)
				}
				return tw.Flush()
			})
		},
		"uncovered": func(args []string) error {
			fs := newFlagSet("delegation uncovered", "delegation uncovered", g, stderr)
			return withExistingDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				gaps, err := db.UncoveredDelegations(ctx, time.Now())
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tCONSUMER\tPROCESSOR\tAGREEMENT\tCANDIDATES\tREASON")
				for _, gp := range gaps {
					d := gp.Delegation
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Consumer, d.Processor, d.AgreementID, strings.Join(gp.Candidates, ","), gp.Reason)
				}
				return tw.Flush()
			})
		},
		"list": func(args []string) error {
			fs := newFlagSet("delegation list", "delegation list [--consumer N]", g, stderr)
			consumer := fs.String("consumer", "", "only this consumer's delegations")
			return withExistingDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				ds, err := db.Delegations(ctx, *consumer)
				if err != nil {
					return err
				}
				tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tCONSUMER\tPROCESSOR\tAGREEMENT\tCHANNELS\tPACKAGES\tVALID TO\tSTATUS")
				for _, d := range ds {
					// One made before agreements were records names its agreement as text only.
					agreement, validTo := d.AgreementID, "-"
					if agreement == "" {
						agreement = "none (text: " + d.DPARef + ")"
					}
					if d.ValidTo != nil {
						validTo = d.ValidTo.Format(time.DateOnly)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Consumer, d.Processor, agreement,
						joinChannels(d.Channels), strings.Join(d.Packages, ","), validTo, d.Status)
				}
				return tw.Flush()
			})
		},
		"end": func(args []string) error {
			fs := newFlagSet("delegation end", "delegation end DELEGATION-ID", g, stderr)
			return withExistingDB(ctx, g, fs, args, func(db *store.DB, env register.Env) error {
				if fs.NArg() != 1 {
					return errors.New("name one delegation id")
				}
				if err := db.EndDelegation(ctx, fs.Arg(0), actor(getenv)); err != nil {
					return err
				}
				fmt.Fprintf(stdout, "delegation %s has ended; the processor is refused from its next request\n", fs.Arg(0))
				return nil
			})
		},
	}, map[string]string{
		"add":        "let a data processor act for a consumer, under a signed data processing agreement (SK-04)",
		"agreements": "list the data processing agreements delegations rest on, with the version in force",
		"list":       "list the delegations (all, or one consumer's), with their agreements",
		"uncovered":  "list delegations not ended that no active agreement covers: made before agreements were records, stopped, expired or narrowed",
		"end":        "end a delegation",
	})
}

// joinChannels is cs comma-separated, "-" for none.
func joinChannels(cs []access.Channel) string {
	if len(cs) == 0 {
		return "-"
	}
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return strings.Join(out, ",")
}
