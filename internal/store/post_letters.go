package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"deling/internal/governance"
	"deling/internal/ident"
	"deling/internal/post"
)

// deling's own letters as digital post (issue 14, item 7). A letter the
// outbox queues to an organisation of a kind in postLetterKinds — suspension
// and resumption, termination, terms changes and objection outcomes, breach
// and data processing letters, notices — is also a correspondence from the
// register in the organisation's inbox, published at once, read-tracked like
// any other (Rule DPV-03). Other kinds are not post: a new kind becomes post
// only when it is added to the list (password links, letters to one person
// by name, notifications of post are never post). The e-mail the letter was
// is its notification (Rule DPV-06): recorded as sent to each address, so
// that publication sends nothing more. It is done here, where every letter is queued (queueMail),
// once per organisation and letter however many addresses it went to.

// RegisterSender is the sender of the register's own letters.
const RegisterSender = ident.Orgnr(governance.AuthorityOrg)

// RegisterSenderName is how the register's letters show their sender.
const RegisterSenderName = post.RegisterSenderName

// postLetterKinds are the kinds of letter that become post, and whether such
// a letter is confidential: a suspension or a breach letter can be read only
// with a key role or the right to confidential post (Rule DPV-03, §1.10).
var postLetterKinds = map[string]bool{
	governance.LetterNotice:          false,
	governance.LetterRemindSubscribe: false,
	governance.LetterSuspension:      true,
	governance.LetterResumption:      false,
	governance.LetterTermination:     false,
	"terms.objection":                false,
	"incident.consumer":              true,
	LetterDPAStop:                    true,
	LetterDPAResume:                  false,
	LetterDPAEnd:                     false,
	LetterDPARequest:                 false,
	LetterDPABreach:                  true,
	"dpa.subprocessor":               false,
	"dpa.deletion.overdue":           false,
	"dpa.deletion.reminder":          false,
}

// letterCorrespondences makes ms' correspondences in tx.
func letterCorrespondences(ctx context.Context, tx *sql.Tx, now time.Time, ms []governance.Letter) error {
	type key struct{ consumer, kind, subject, body string }
	made := map[key]string{}
	for _, m := range ms {
		confidential, ok := postLetterKinds[m.Kind]
		if !ok || m.Consumer == "" {
			continue // not a kind that is post (an allow-list); a letter to no organisation has no inbox
		}
		if _, err := ident.ParseOrgnr(m.Consumer); err != nil {
			continue
		}
		k := key{m.Consumer, m.Kind, m.Subject, m.Body}
		id, ok := made[k]
		if !ok {
			id = newID()
			made[k] = id
			c := post.Correspondence{ResourceID: post.CatAdministration.ResourceID(), SendersReference: m.Kind,
				MessageSender: RegisterSenderName, IsConfidential: confidential,
				// The letter is plain text and may quote other organisations' words: as Markdown it is escaped.
				Content: &post.Content{Language: "nb", MessageTitle: m.Subject, MessageBody: post.PlainText(m.Body)}}
			body, err := json.Marshal(c)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO post_correspondences (id, sender, technical, recipient, senders_reference, resource_id,
				message_sender, created_at, publish_at, due_at, confirmation, confidential, current, body)
				VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $7, NULL, 0, $8, $9, $10)`,
				id, string(RegisterSender), m.Consumer, m.Kind, c.ResourceID, c.MessageSender, micros(now), boolInt(confidential), int64(post.StatusPublished), string(body)); err != nil {
				return fmt.Errorf("letter as post: %w", err)
			}
			for i, s := range []post.Status{post.StatusInitialized, post.StatusReadyForPublish, post.StatusPublished} {
				if err := addStatus(ctx, tx, id, i, s, now, post.BySystem); err != nil {
					return err
				}
			}
		}
		if m.To == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO post_notifications (correspondence, kind, recipient, sent_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (correspondence, kind, recipient) DO NOTHING`, id, string(post.NotifyMain), m.To, micros(now)); err != nil {
			return fmt.Errorf("letter as post: %w", err)
		}
	}
	return nil
}
