package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"deling/internal/register"
)

// UpsertOrganisations inserts or updates organisations by number and returns how many rows changed.
func (db *DB) UpsertOrganisations(ctx context.Context, os []register.Organisation) (int64, error) {
	now := micros(db.now())
	n, err := db.upsert(ctx, db.regWrite,
		"INSERT INTO organisations (orgnr, navn, enhetstype, organisasjonsform, overordnet, slettedato, updated_at) VALUES ",
		` ON CONFLICT (orgnr) DO UPDATE SET navn = excluded.navn, enhetstype = excluded.enhetstype,
		  organisasjonsform = excluded.organisasjonsform, overordnet = excluded.overordnet,
		  slettedato = excluded.slettedato, updated_at = excluded.updated_at
		  WHERE organisations.navn <> excluded.navn OR organisations.enhetstype <> excluded.enhetstype
		     OR organisations.organisasjonsform <> excluded.organisasjonsform
		     OR organisations.overordnet <> excluded.overordnet
		     OR COALESCE(organisations.slettedato, '') <> COALESCE(excluded.slettedato, '')`,
		7, len(os), func(i int, dst []any) []any {
			o := &os[i]
			form := ""
			if o.Organisasjonsform != nil {
				form = o.Organisasjonsform.Kode
			}
			return append(dst, o.Organisasjonsnummer, o.Navn, o.Enhetstype, form, o.OverordnetEnhet, nullDate(o.Slettedato), now)
		})
	if err != nil {
		return 0, fmt.Errorf("upsert organisations: %w", err)
	}
	return n, nil
}

// Organisation loads one organisation by number.
func (db *DB) Organisation(ctx context.Context, orgnr string) (register.Organisation, error) {
	var (
		o     register.Organisation
		form  string
		slett sql.NullString
	)
	err := db.regRow(ctx,
		`SELECT orgnr, navn, enhetstype, organisasjonsform, overordnet, slettedato FROM organisations WHERE orgnr = $1`, []any{orgnr},
		&o.Organisasjonsnummer, &o.Navn, &o.Enhetstype, &form, &o.OverordnetEnhet, &slett)
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("organisation %s: %w", orgnr, ErrNotFound)
	}
	if err != nil {
		return o, fmt.Errorf("load organisation %s: %w", orgnr, err)
	}
	if form != "" {
		k, _ := register.Kodeverk.Lookup(register.KodeverkOrganisasjonsformer, form)
		o.Organisasjonsform = &k
	}
	if slett.Valid {
		d := register.Date(slett.String)
		o.Slettedato = &d
	}
	return o, nil
}

func nullDate(d *register.Date) any {
	if d == nil {
		return nil
	}
	return string(*d)
}
