package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"deling/internal/register"
)

// UpsertPersons inserts or updates persons by ident and returns how many rows changed.
func (db *DB) UpsertPersons(ctx context.Context, ps []register.Person) (int64, error) {
	now := micros(db.now())
	n, err := db.upsert(ctx, db.regWrite,
		"INSERT INTO persons (ident, fornavn, mellomnavn, etternavn, adressebeskyttelse, status, updated_at) VALUES ",
		` ON CONFLICT (ident) DO UPDATE SET fornavn = excluded.fornavn, mellomnavn = excluded.mellomnavn,
		  etternavn = excluded.etternavn, adressebeskyttelse = excluded.adressebeskyttelse,
		  status = excluded.status, updated_at = excluded.updated_at
		  WHERE persons.fornavn <> excluded.fornavn OR persons.mellomnavn <> excluded.mellomnavn
		     OR persons.etternavn <> excluded.etternavn OR persons.adressebeskyttelse <> excluded.adressebeskyttelse
		     OR persons.status <> excluded.status`,
		7, len(ps), func(i int, dst []any) []any {
			p := &ps[i]
			return append(dst, p.Ident, p.Fornavn, p.Mellomnavn, p.Etternavn, p.Adressebeskyttelse, p.Status, now)
		})
	if err != nil {
		return 0, fmt.Errorf("upsert persons: %w", err)
	}
	return n, nil
}

// Person loads one person by identity.
func (db *DB) Person(ctx context.Context, ident string) (register.Person, error) {
	var p register.Person
	err := db.regRow(ctx,
		`SELECT ident, fornavn, mellomnavn, etternavn, adressebeskyttelse, status FROM persons WHERE ident = $1`, []any{ident},
		&p.Ident, &p.Fornavn, &p.Mellomnavn, &p.Etternavn, &p.Adressebeskyttelse, &p.Status)
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("person: %w", ErrNotFound) // never the identity: errors end up in logs
	}
	if err != nil {
		return p, fmt.Errorf("load person: %w", err)
	}
	return p, nil
}

// Protected reports whether the register knows ident as a person with a
// protected address (Rule AA-11); an unknown identity is not protected.
func (db *DB) Protected(ctx context.Context, ident string) (bool, error) {
	p, err := db.Person(ctx, ident)
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return false, err
	}
	return p.Protected(), nil
}
