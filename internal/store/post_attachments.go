package store

import (
	"context"
	"crypto/md5"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"deling/internal/audit"
	"deling/internal/post"
)

// Attachments' bytes are streamed, never held whole: on SQLite to a file in
// the data directory (post-attachments/<id>), written to a temporary name and
// renamed once complete and checked; on PostgreSQL into
// post_attachment_chunks, one row per chunk, each its own statement under a
// staging name, renamed to the attachment's id in one short transaction once
// complete and checked. Either way no transaction or lock is held while the
// client's body is read (review finding 7), and a failed upload (too large,
// wrong checksum, a broken stream) leaves nothing behind.

// attachmentChunk is the size of one chunk, read and written at a time.
const attachmentChunk = 256 << 10

// PostAttachment is an attachment's metadata.
type PostAttachment struct {
	ID               string
	Correspondence   string
	FileName         string
	DisplayName      string
	SendersReference string
	Checksum         string // MD5, hex: the sender's, or computed at upload
	Size             int64
	Uploaded         bool
	Purged           bool // its bytes were deleted with the correspondence's purge
}

const attachmentColumns = `id, correspondence, file_name, display_name, senders_reference, checksum, size, uploaded_at, purged_at`

func scanAttachment(row interface{ Scan(...any) error }) (PostAttachment, error) {
	var (
		a          PostAttachment
		up, purged sql.NullInt64
	)
	err := row.Scan(&a.ID, &a.Correspondence, &a.FileName, &a.DisplayName, &a.SendersReference, &a.Checksum, &a.Size, &up, &purged)
	if errors.Is(err, sql.ErrNoRows) {
		return a, fmt.Errorf("attachment: %w", ErrNotFound)
	}
	a.Uploaded, a.Purged = up.Valid, purged.Valid
	return a, err
}

// PostAttachment is one attachment's metadata, ErrNotFound if none.
func (db *DB) PostAttachment(ctx context.Context, id string) (PostAttachment, error) {
	return scanAttachment(db.read.queryRow(ctx, `SELECT `+attachmentColumns+` FROM post_attachments WHERE id = $1`, id))
}

// PostAttachments lists a correspondence's attachments in the order initialized.
func (db *DB) PostAttachments(ctx context.Context, correspondence string) ([]PostAttachment, error) {
	rows, err := db.read.query(ctx, `SELECT `+attachmentColumns+` FROM post_attachments
		WHERE id IN (SELECT attachment FROM post_attachment_links WHERE correspondence = $1) ORDER BY id`, correspondence)
	if err != nil {
		return nil, fmt.Errorf("attachments: %w", err)
	}
	defer rows.Close()
	out := []PostAttachment{}
	for rows.Next() {
		a, err := scanAttachment(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func attachmentIDs(ctx context.Context, tx *sql.Tx, correspondence string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT attachment FROM post_attachment_links WHERE correspondence = $1 ORDER BY attachment`, correspondence)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (db *DB) attachmentPath(id string) string {
	return filepath.Join(db.dir, "post-attachments", id)
}

func (db *DB) removeAttachmentFile(id string) {
	if db.engine == SQLite {
		os.Remove(db.attachmentPath(id))
	}
}

// UploadAttachment stores an attachment's bytes from r, streamed, at most
// max bytes, checked against the checksum given at initialize (2008) or
// recording the one computed. Only the correspondences' sender uploads, and
// only while one of the correspondences that share the attachment is
// Initialized and the attachment has no bytes yet; the caller checks who.
// When the last attachment is in, each Initialized correspondence that
// shares it is ReadyForPublish. A refusal is a *post.Problem and leaves
// nothing stored.
//
// An attachment belongs to the request that made it (review finding 5):
// a.Correspondence is its first correspondence, whose row uploads lock.
func (db *DB) UploadAttachment(ctx context.Context, id string, r io.Reader, max int64, actor string) error {
	a, err := db.PostAttachment(ctx, id)
	if err != nil {
		return err
	}
	c, err := db.correspondence(ctx, db.read.queryRow, a.Correspondence)
	if err != nil {
		return err
	}
	open, err := db.awaitingUpload(ctx, db.read.query, id)
	if err != nil {
		return err
	}
	if a.Uploaded || len(open) == 0 {
		return post.AttachmentNotUploadable()
	}
	sum := md5.New()
	var (
		size int64
		tmp  string
	)
	// check reads the stream's end and decides on its size and checksum.
	check := func() error {
		if size > max {
			return post.AttachmentTooLarge(max)
		}
		got := hex.EncodeToString(sum.Sum(nil))
		if a.Checksum != "" && !strings.EqualFold(a.Checksum, got) {
			return post.ChecksumMismatch()
		}
		a.Checksum = got
		return nil
	}
	limited := io.LimitReader(r, max+1)
	var staging string
	if db.engine == SQLite {
		if tmp, size, err = db.streamToFile(id, limited, sum); err != nil {
			return err
		}
		defer os.Remove(tmp) // a no-op once renamed
	} else {
		staging = stagingPrefix + id + "." + newID()
		// Nothing left under the staging name once renamed or failed (a
		// process that dies mid-upload leaves its staged rows behind).
		defer db.write.ExecContext(context.WithoutCancel(ctx), `DELETE FROM post_attachment_chunks WHERE attachment = $1`, staging)
		if size, err = db.streamToChunks(ctx, staging, limited, sum); err != nil {
			return err
		}
	}
	if err := check(); err != nil {
		return err
	}
	now := db.now().UTC()
	renamed := false
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		// Uploads to one correspondence take turns, so that the last one sees the others' and makes it ready.
		if _, err := db.lockCorrespondence(ctx, tx, a.Correspondence); err != nil {
			return err
		}
		// Another upload of the same attachment may have committed while this
		// one waited for the lock: 409, before this one writes anything.
		if cur, err := scanAttachment(tx.QueryRowContext(ctx, `SELECT `+attachmentColumns+` FROM post_attachments WHERE id = $1`, id)); err != nil {
			return err
		} else if cur.Uploaded {
			return post.AttachmentNotUploadable()
		}
		if staging != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE post_attachment_chunks SET attachment = $1 WHERE attachment = $2`, id, staging); err != nil {
				return fmt.Errorf("upload attachment: %w", err)
			}
		}
		res, err := tx.ExecContext(ctx, `UPDATE post_attachments SET checksum = $1, size = $2, uploaded_at = $3 WHERE id = $4 AND uploaded_at IS NULL`,
			a.Checksum, size, micros(now), id)
		if err != nil {
			return fmt.Errorf("upload attachment: %w", err)
		}
		if k, _ := res.RowsAffected(); k != 1 {
			return post.AttachmentNotUploadable() // a concurrent upload won
		}
		open, err := db.awaitingUpload(ctx, tx.QueryContext, id)
		if err != nil {
			return err
		}
		for _, cid := range open {
			var missing int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM post_attachment_links l JOIN post_attachments a ON a.id = l.attachment
				WHERE l.correspondence = $1 AND a.uploaded_at IS NULL`, cid).Scan(&missing); err != nil {
				return err
			}
			if missing == 0 {
				if err := setStatus(ctx, tx, cid, post.StatusReadyForPublish, now, post.BySystem); err != nil {
					return err
				}
			}
		}
		if tmp != "" {
			if err := os.Rename(tmp, db.attachmentPath(id)); err != nil {
				return fmt.Errorf("upload attachment: %w", err)
			}
			renamed = true
		}
		ev := map[string]any{"step": "attachment.uploaded", "correspondence": a.Correspondence, "attachment": id, "size": size, "md5": a.Checksum}
		return db.appendEvent(ctx, tx, audit.KindPost, string(c.Sender), actor, ev)
	})
	// Only the file this call put in place: a losing concurrent upload must
	// not remove the winner's (review finding 2).
	if err != nil && renamed {
		os.Remove(db.attachmentPath(id))
	}
	return err
}

// UploadWindow is how long a correspondence may wait for its attachments:
// one still Initialized after it is Failed (review finding 5), so that an
// upload that never comes does not leave it waiting for ever.
const UploadWindow = 24 * time.Hour

// failUnuploaded marks Failed the correspondences Initialized before now
// less UploadWindow, at most 1000 a run, and logs each.
func (db *DB) failUnuploaded(ctx context.Context, now time.Time) error {
	rows, err := db.read.query(ctx, `SELECT id FROM post_correspondences WHERE current = $1 AND created_at < $2 ORDER BY created_at LIMIT 1000`,
		int64(post.StatusInitialized), micros(now.Add(-UploadWindow)))
	ids, err := scanIDs(rows, err)
	if err != nil {
		return fmt.Errorf("fail unuploaded: %w", err)
	}
	for _, id := range ids {
		if err := db.inTx(ctx, func(tx *sql.Tx) error {
			c, err := db.lockCorrespondence(ctx, tx, id)
			if err != nil || c.Status != post.StatusInitialized {
				return err // an upload made it ready meanwhile
			}
			if err := setStatus(ctx, tx, id, post.StatusFailed, now, post.BySystem); err != nil {
				return err
			}
			ev := map[string]any{"step": "failed", "correspondence": id, "reason": "attachments not uploaded"}
			return db.appendEvent(ctx, tx, audit.KindPost, string(c.Sender), "deling", ev)
		}); err != nil {
			return fmt.Errorf("fail unuploaded: %w", err)
		}
	}
	return nil
}

// AttachmentCorrespondences lists the correspondences that share attachment
// id: those of the request that made it.
func (db *DB) AttachmentCorrespondences(ctx context.Context, id string) ([]string, error) {
	rows, err := db.read.query(ctx, `SELECT correspondence FROM post_attachment_links WHERE attachment = $1 ORDER BY correspondence`, id)
	ids, err := scanIDs(rows, err)
	if err != nil {
		return nil, fmt.Errorf("attachment correspondences: %w", err)
	}
	return ids, nil
}

// awaitingUpload lists the Initialized correspondences that share attachment id.
func (db *DB) awaitingUpload(ctx context.Context, q func(context.Context, string, ...any) (*sql.Rows, error), id string) ([]string, error) {
	rows, err := q(ctx, `SELECT l.correspondence FROM post_attachment_links l JOIN post_correspondences c ON c.id = l.correspondence
		WHERE l.attachment = $1 AND c.current = $2 ORDER BY l.correspondence`, id, int64(post.StatusInitialized))
	ids, err := scanIDs(rows, err)
	if err != nil {
		return nil, fmt.Errorf("upload attachment: %w", err)
	}
	return ids, nil
}

// stagingDir is where uploads in progress are written on SQLite, apart from
// the attachments, so that the sweep lists only them (review of post1, finding 8).
func (db *DB) stagingDir() string {
	return filepath.Join(db.dir, "post-attachments", "staging")
}

// streamToFile copies r to a temporary file in the staging directory and
// returns its name and size.
func (db *DB) streamToFile(id string, r io.Reader, sum hash.Hash) (string, int64, error) {
	dir := db.stagingDir()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", 0, fmt.Errorf("upload attachment: %w", err)
	}
	f, err := os.CreateTemp(dir, id+".*.part")
	if err != nil {
		return "", 0, fmt.Errorf("upload attachment: %w", err)
	}
	n, err := io.CopyBuffer(io.MultiWriter(f, sum), r, make([]byte, attachmentChunk))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return "", 0, fmt.Errorf("upload attachment: %w", err)
	}
	return f.Name(), n, nil
}

// stagingPrefix begins the name an upload's chunks are staged under on
// PostgreSQL; attachment ids never begin with it. The sweep tests it with
// substr, never with a range of text: a database's collation (nb_NO,
// en_US) need not sort by bytes (review of post1, finding 1), and the
// partial index post_attachment_chunks_staged is on this very expression.
const stagingPrefix = "part."

// StagedUploadAge is how long an upload's staged bytes may go unwritten
// before the sweep deletes them: longer than any upload in progress writes
// nothing (the API gives an upload 30 minutes to arrive).
const StagedUploadAge = time.Hour

// sweepStagedUploads deletes what interrupted uploads left behind (a
// process that died, a client that went away, a sender that left): on
// SQLite the .part files in the staging directory not written for
// StagedUploadAge, on PostgreSQL the staged chunks whose newest is as old.
func (db *DB) sweepStagedUploads(ctx context.Context, now time.Time) error {
	cutoff := now.Add(-StagedUploadAge)
	if db.engine == Postgres {
		// Staged rows without a time (written before staged_at) count as old.
		_, err := db.write.ExecContext(ctx, `DELETE FROM post_attachment_chunks WHERE attachment IN (SELECT attachment FROM post_attachment_chunks
			WHERE substr(attachment, 1, 5) = 'part.' GROUP BY attachment HAVING MAX(COALESCE(staged_at, 0)) < $1)`,
			micros(cutoff))
		if err != nil {
			return fmt.Errorf("sweep staged uploads: %w", err)
		}
		return nil
	}
	dir := db.stagingDir()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("sweep staged uploads: %w", err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".part") {
			continue
		}
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return nil
}

// streamToChunks writes r into post_attachment_chunks under the name id,
// each chunk its own statement, and returns the size.
func (db *DB) streamToChunks(ctx context.Context, id string, r io.Reader, sum hash.Hash) (int64, error) {
	buf := make([]byte, attachmentChunk)
	var size int64
	for seq := 0; ; seq++ {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			sum.Write(buf[:n])
			size += int64(n)
			if _, werr := db.write.ExecContext(ctx, `INSERT INTO post_attachment_chunks (attachment, seq, data, staged_at) VALUES ($1, $2, $3, $4)`,
				id, seq, buf[:n], micros(db.now())); werr != nil {
				return size, fmt.Errorf("upload attachment: %w", werr)
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return size, nil
		}
		if err != nil {
			return size, fmt.Errorf("upload attachment: %w", err)
		}
	}
}

// WriteAttachment streams an uploaded attachment's bytes to w, chunk by
// chunk; ErrNotFound if it has none. Who may download is the caller's to decide.
func (db *DB) WriteAttachment(ctx context.Context, id string, w io.Writer) error {
	a, err := db.PostAttachment(ctx, id)
	if err != nil {
		return err
	}
	// Review finding 8: a purge deleted the bytes; nobody downloads them after it.
	if !a.Uploaded || a.Purged {
		return fmt.Errorf("attachment bytes: %w", ErrNotFound)
	}
	if db.engine == SQLite {
		f, err := os.Open(db.attachmentPath(id))
		if err != nil {
			return fmt.Errorf("attachment bytes: %w", err)
		}
		defer f.Close()
		_, err = io.CopyBuffer(w, f, make([]byte, attachmentChunk))
		return err
	}
	// One chunk at a time, by key: never the whole file.
	for seq := 0; ; seq++ {
		var data []byte
		err := db.read.queryRow(ctx, `SELECT data FROM post_attachment_chunks WHERE attachment = $1 AND seq = $2`, id, seq).Scan(&data)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("attachment bytes: %w", err)
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
}
