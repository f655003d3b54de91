package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"deling/internal/governance"
)

// Letters are the written notices a change to a consumer's access sends its
// contacts (Rules AA-25, AA-26, AA-27): queued in the outbox in the change's
// transaction, each with an event in the log.

// KindLetter is the event of a written notice queued to a consumer's contacts (Rule AA-25).
const KindLetter = "letter.queued"

// queueLetters queues letters about consumer in tx, each with an event in the
// log: a letter with an empty To goes to every address of letterRecipients.
func (db *DB) queueLetters(ctx context.Context, tx *sql.Tx, consumer, actor string, letters ...governance.Letter) (int, error) {
	if len(letters) == 0 {
		return 0, nil
	}
	var to []string
	if slices.ContainsFunc(letters, func(l governance.Letter) bool { return l.To == "" }) {
		var err error
		if to, err = letterRecipients(ctx, tx, consumer); err != nil {
			return 0, err
		}
	}
	var out []governance.Letter
	for _, l := range letters {
		l.Consumer = consumer
		if l.To != "" {
			out = append(out, l)
			continue
		}
		for _, a := range to {
			l.To = a
			out = append(out, l)
		}
	}
	if err := queueMail(ctx, tx, db.now(), out...); err != nil {
		return 0, err
	}
	for _, l := range letters {
		if err := db.appendEvent(ctx, tx, KindLetter, consumer, actor, map[string]any{"kind": l.Kind, "subject": l.Subject}); err != nil {
			return 0, err
		}
	}
	return len(out), nil
}

// letterRecipients are the addresses a written notice to a consumer goes to:
// its contact persons, or, while it has none, the organisation's
// administrators and role holders in the portal. Each address once.
func letterRecipients(ctx context.Context, tx *sql.Tx, consumer string) ([]string, error) {
	to, err := idsIn(ctx, tx, `SELECT epost FROM contacts WHERE consumer = $1 ORDER BY rolle, navn, id`, consumer)
	if err != nil {
		return nil, fmt.Errorf("letter recipients: %w", err)
	}
	if len(to) == 0 {
		to, err = idsIn(ctx, tx, `SELECT u.email FROM users u JOIN memberships m ON m.user_id = u.id
			WHERE m.org = $1 AND m.role IN ($2, $3) AND u.disabled_at IS NULL ORDER BY u.email`,
			consumer, string(governance.Administrator), string(governance.Rolleinnehaver))
		if err != nil {
			return nil, fmt.Errorf("letter recipients: %w", err)
		}
	}
	var out []string
	for _, a := range to {
		if a = strings.ToLower(a); !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}
