package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"deling/internal/audit"
	"deling/internal/governance"
)

const contactColumns = `id, consumer, navn, epost, telefon, rolle, varsler`

func scanContacts(rows *sql.Rows, err error) ([]governance.Contact, error) {
	if err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	defer rows.Close()
	var out []governance.Contact
	for rows.Next() {
		var c governance.Contact
		var rolle string
		if err := rows.Scan(&c.ID, &c.Consumer, &c.Navn, &c.Epost, &c.Telefon, &rolle, &c.Varsler); err != nil {
			return nil, err
		}
		c.Rolle = governance.ContactRole(rolle)
		out = append(out, c)
	}
	return out, rows.Err()
}

// Contacts lists a consumer's contact persons by role and name.
func (db *DB) Contacts(ctx context.Context, consumer string) ([]governance.Contact, error) {
	return scanContacts(db.read.query(ctx, `SELECT `+contactColumns+` FROM contacts WHERE consumer = $1 ORDER BY rolle, navn, id`, consumer))
}

// SubscribedContacts lists every contact who subscribes to notices, of consumers that are active (Rule AA-20).
func (db *DB) SubscribedContacts(ctx context.Context) ([]governance.Contact, error) {
	return scanContacts(db.read.query(ctx, `SELECT `+contactColumns+` FROM contacts
		WHERE varsler AND consumer IN (SELECT orgnr FROM consumers WHERE status = 'active') ORDER BY consumer, navn, id`))
}

// SaveContact adds a contact (empty ID) or changes one of the consumer's (Rule AA-06: no new decision needed).
func (db *DB) SaveContact(ctx context.Context, c governance.Contact, actor string) (governance.Contact, error) {
	now := micros(db.now())
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if c.ID == "" {
			c.ID = newID()
			if _, err := tx.ExecContext(ctx, `INSERT INTO contacts (id, consumer, navn, epost, telefon, rolle, varsler, created_at, updated_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, c.ID, c.Consumer, c.Navn, c.Epost, c.Telefon, string(c.Rolle), c.Varsler, now); err != nil {
				return fmt.Errorf("add contact: %w", err)
			}
		} else {
			res, err := tx.ExecContext(ctx, `UPDATE contacts SET navn = $1, epost = $2, telefon = $3, rolle = $4, varsler = $5, updated_at = $6
				WHERE id = $7 AND consumer = $8`, c.Navn, c.Epost, c.Telefon, string(c.Rolle), c.Varsler, now, c.ID, c.Consumer)
			if err != nil {
				return fmt.Errorf("change contact: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("contact: %w", ErrNotFound)
			}
		}
		return db.appendEvent(ctx, tx, audit.KindContactChanged, c.Consumer, actor, map[string]any{"contact": c.ID, "rolle": c.Rolle, "varsler": c.Varsler})
	})
	return c, err
}

// RemoveContact deletes one of a consumer's contacts.
func (db *DB) RemoveContact(ctx context.Context, consumer, id, actor string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE id = $1 AND consumer = $2`, id, consumer)
		if err != nil {
			return fmt.Errorf("remove contact: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("contact: %w", ErrNotFound)
		}
		return db.appendEvent(ctx, tx, audit.KindContactChanged, consumer, actor, map[string]any{"contact": id, "removed": true})
	})
}

// lockAdminContacts lists the ids of consumer's administrative contacts in
// tx, locking their rows on PostgreSQL (SQLite's writers take turns anyway),
// so that two concurrent changes cannot both leave the consumer without one.
func (db *DB) lockAdminContacts(ctx context.Context, tx *sql.Tx, consumer string) ([]string, error) {
	q := db.forUpdate(`SELECT id FROM contacts WHERE consumer = $1 AND rolle = $2 ORDER BY id`)
	ids, err := idsIn(ctx, tx, q, consumer, string(governance.ContactAdministrative))
	if err != nil {
		return nil, fmt.Errorf("administrative contacts of %s: %w", consumer, err)
	}
	return ids, nil
}

// keepsAdminContact is ErrConflict when the consumer's administrative
// contacts, ids, are just the contact id, and it is to go or change role.
func keepsAdminContact(ids []string, id string) error {
	if slices.Contains(ids, id) && len(ids) == 1 {
		return fmt.Errorf("the last administrative contact: %w", ErrConflict)
	}
	return nil
}

// ChangeContactKeepingOne changes one of a consumer's contacts, as
// SaveContact does (Rule AA-06), but refuses with ErrConflict to make its last
// administrative contact anything else; the check and the change are one
// transaction. ErrNotFound when the consumer has no such contact.
func (db *DB) ChangeContactKeepingOne(ctx context.Context, c governance.Contact, actor string) (governance.Contact, error) {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		admins, err := db.lockAdminContacts(ctx, tx, c.Consumer)
		if err != nil {
			return err
		}
		if c.Rolle != governance.ContactAdministrative {
			if err := keepsAdminContact(admins, c.ID); err != nil {
				return err
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE contacts SET navn = $1, epost = $2, telefon = $3, rolle = $4, varsler = $5, updated_at = $6
			WHERE id = $7 AND consumer = $8`, c.Navn, c.Epost, c.Telefon, string(c.Rolle), c.Varsler, micros(db.now()), c.ID, c.Consumer)
		if err != nil {
			return fmt.Errorf("change contact: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("contact: %w", ErrNotFound)
		}
		return db.appendEvent(ctx, tx, audit.KindContactChanged, c.Consumer, actor, map[string]any{"contact": c.ID, "rolle": c.Rolle, "varsler": c.Varsler})
	})
	return c, err
}

// RemoveContactKeepingOne deletes one of a consumer's contacts (Rule AA-06),
// but refuses with ErrConflict to delete its last administrative contact; the
// check and the deletion are one transaction. ErrNotFound when the consumer
// has no such contact.
func (db *DB) RemoveContactKeepingOne(ctx context.Context, consumer, id, actor string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		admins, err := db.lockAdminContacts(ctx, tx, consumer)
		if err != nil {
			return err
		}
		if err := keepsAdminContact(admins, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM contacts WHERE id = $1 AND consumer = $2`, id, consumer)
		if err != nil {
			return fmt.Errorf("remove contact: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("contact: %w", ErrNotFound)
		}
		return db.appendEvent(ctx, tx, audit.KindContactChanged, consumer, actor, map[string]any{"contact": id, "removed": true})
	})
}
