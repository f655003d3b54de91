package post

import (
	"context"
	"errors"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"deling/internal/ident"
	dpv "deling/internal/post"
	"deling/internal/store"
	"deling/internal/web/portal/site"
)

// viewer is the visitor, acting for v.Org, as a reader of org's post (Rule
// DPV-03): of their own organisation's by their key roles (role codes,
// dpv.PortalRoles), the access-management role and the delegations that
// name them; of another organisation's only by what it delegated to v.Org
// (store.PostViewer). Read on each request: a revocation takes effect at once.
func (s *Feature) viewer(ctx context.Context, v *site.Visitor, org ident.Orgnr) (dpv.Viewer, error) {
	return s.DB.PostViewer(ctx, v.User.ID, ident.Orgnr(v.Org), org)
}

// reading is the organisation whose post a list shows: v.Org, or one of
// the organisations that delegated Post/Arkiv to v.Org (?virksomhet=),
// whose name is then given; one the visitor may not read is not found.
func (s *Feature) reading(r *http.Request, v *site.Visitor) (org ident.Orgnr, name string, others []option, err error) {
	ctx := r.Context()
	through, err := s.DB.PostOrgsThrough(ctx, v.User.ID, ident.Orgnr(v.Org))
	if err != nil {
		return "", "", nil, err
	}
	asked := r.URL.Query().Get("virksomhet")
	org = ident.Orgnr(v.Org)
	if asked != "" && asked != v.Org {
		if !slices.Contains(through, ident.Orgnr(asked)) {
			return "", "", nil, store.ErrNotFound
		}
		org = ident.Orgnr(asked)
	}
	for _, o := range through {
		n, err := s.OrgName(ctx, string(o))
		if err != nil {
			return "", "", nil, err
		}
		others = append(others, option{Value: string(o), Label: site.OrgLabel(n, string(o)), Selected: o == org})
		if o == org {
			name = site.OrgLabel(n, string(o))
		}
	}
	return org, name, others, nil
}

func readable(c store.Correspondence) dpv.Readable {
	return dpv.Readable{Recipient: c.Recipient, Confidential: c.Confidential, Status: c.Status}
}

// row is a correspondence as the inbox lists it.
type row struct {
	ID, Title, Published, Due, Status string
	From                              sender
	Confidential, Unread, ToConfirm   bool
}

// sender is how a correspondence shows who sent it (review finding 2, Rule
// DPV-04): always the registered name and organisation number of the actual
// sender (the register's own letters: the register), the technical sender
// when it sent on the actual sender's behalf, and the name the sender gave
// (messageSender) only as a secondary line, so that no sender can pass for
// another or for the register.
type sender struct {
	Name  string // registered name and organisation number
	Via   string // the technical sender, when on behalf of
	Given string // messageSender
}

// from is c's sender; names caches registered names.
func (s *Feature) from(ctx context.Context, c store.Correspondence, names map[ident.Orgnr]string) sender {
	f := sender{Name: s.senderName(ctx, c.Sender, names)}
	if c.Technical != "" && c.Technical != c.Sender {
		f.Via = s.senderName(ctx, c.Technical, names)
	}
	if c.Sender != store.RegisterSender && c.MessageSender != "" {
		f.Given = c.MessageSender
	}
	return f
}

// senderName is org's registered name with its organisation number.
func (s *Feature) senderName(ctx context.Context, org ident.Orgnr, names map[ident.Orgnr]string) string {
	if n, ok := names[org]; ok {
		return n
	}
	n := "Org.nr. " + string(org)
	if org == store.RegisterSender {
		n = store.RegisterSenderName // the register has no organisation number of its own in deling
	} else if snd, err := s.DB.PostSender(ctx, org); err == nil && snd.Name != "" {
		n = snd.Name + " (org.nr. " + string(org) + ")"
	}
	names[org] = n
	return n
}

type inboxPage struct {
	site.Frame
	For         string   // the organisation read for, when not the visitor's own: its number
	ForName     string   // its name and number
	Others      []option // the organisations that delegated their post to the visitor's
	Archive     bool
	MayRead     bool // holds Post/Arkiv at all (confidential post includes it)
	MayDelegate bool
	Rows        []row
	Next        string // the next page's cursor (?etter=), "" on the last page
}

// inboxPageSize is how many entries a page of the inbox or archive lists.
const inboxPageSize = 50

// parseCursor is the ?etter= cursor, "<microseconds>.<id>"; nil for the first page or one that does not parse.
func parseCursor(v string) *store.InboxCursor {
	at, id, ok := strings.Cut(v, ".")
	n, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || id == "" {
		return nil
	}
	return &store.InboxCursor{Publish: n, ID: id}
}

func (s *Feature) inbox(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	return s.list(w, r, v, false)
}

func (s *Feature) archive(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	return s.list(w, r, v, true)
}

// list shows the inbox (unread) or the archive (read): only what the
// visitor may read; someone without Post/Arkiv sees none, not even how many.
func (s *Feature) list(w http.ResponseWriter, r *http.Request, v *site.Visitor, archive bool) error {
	org, forName, others, err := s.reading(r, v)
	if err != nil {
		return err
	}
	vw, err := s.viewer(r.Context(), v, org)
	if err != nil {
		return err
	}
	title := "Innboks"
	if archive {
		title = "Arkiv"
	}
	p := inboxPage{Frame: s.Frame(r, v, title), ForName: forName, Others: others, Archive: archive, MayRead: vw.Has(org, dpv.RightPostArkiv),
		MayDelegate: org == ident.Orgnr(v.Org) && vw.Has(org, dpv.RightAccessManagement)}
	if forName != "" {
		p.For = string(org)
	}
	if p.MayRead {
		entries, next, err := s.DB.PostInboxPage(r.Context(), org,
			store.InboxPage{Read: archive, Before: parseCursor(r.URL.Query().Get("etter")), Limit: inboxPageSize})
		if err != nil {
			return err
		}
		if next != nil {
			p.Next = strconv.FormatInt(next.Publish, 10) + "." + next.ID
		}
		names := map[ident.Orgnr]string{}
		for _, e := range entries {
			// Rule DPV-03: only what this visitor may read.
			if e.Read != archive || !dpv.MayRead(vw, org, readable(e.Correspondence)) {
				continue
			}
			rw := row{ID: e.ID, Published: s.OsloTime(e.Publish), Status: e.Status.Label(), Confidential: e.Confidential,
				Unread:    e.Status == dpv.StatusPublished,
				ToConfirm: e.ConfirmationNeeded && !e.Confirmed}
			if e.Body.Content != nil {
				rw.Title = e.Body.Content.MessageTitle
			}
			if e.Due != nil {
				rw.Due = s.OsloTime(*e.Due)
			}
			rw.From = s.from(r.Context(), e.Correspondence, names)
			p.Rows = append(p.Rows, rw)
		}
	}
	s.Render(w, r, "post_innboks.html", p)
	return nil
}

// load is the correspondence {id} when the visitor may read it as their
// organisation's post, else store.ErrNotFound: the same answer for what does
// not exist, belongs to another organisation or needs a right they lack.
func (s *Feature) load(r *http.Request, v *site.Visitor) (store.Correspondence, error) {
	c, err := s.DB.Correspondence(r.Context(), r.PathValue("id"))
	if err != nil {
		return c, err
	}
	// Rule DPV-03: as a reader of the recipient's post, which is v.Org's
	// own or one that delegated it to v.Org.
	vw, err := s.viewer(r.Context(), v, c.Recipient)
	if err != nil {
		return c, err
	}
	if !dpv.MayRead(vw, c.Recipient, readable(c)) || c.Publish.After(s.Now()) {
		return c, store.ErrNotFound
	}
	return c, nil
}

type messagePage struct {
	site.Frame
	For          string // the recipient, when not the visitor's own organisation
	C            store.Correspondence
	From         sender
	Title        string
	Summary      string
	Body         template.HTML
	Published    string
	Due          string
	Attachments  []store.PostAttachment
	Confirmed    string
	ToConfirm    bool
	History      []historyRow
	CategoryName string
}

type historyRow struct{ Status, At string }

// message shows a correspondence and records that it was opened and read
// (Fetched, then Read the first time; Rule DPV-03: reading is recorded).
func (s *Feature) message(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.load(r, v)
	if err != nil {
		return err
	}
	if err := s.DB.FetchCorrespondence(r.Context(), c.ID, v.Actor()); err != nil {
		return err
	}
	if !dpv.Has(c.History, dpv.StatusRead) {
		if err := s.DB.ChangeCorrespondence(r.Context(), c.ID, dpv.ByRecipient, dpv.StatusRead, v.Actor()); err != nil {
			return err
		}
	}
	if c, err = s.DB.Correspondence(r.Context(), c.ID); err != nil {
		return err
	}
	p := messagePage{Frame: s.Frame(r, v, "Melding"), C: c, From: s.from(r.Context(), c, map[ident.Orgnr]string{}), Published: s.OsloTime(c.Publish),
		ToConfirm: c.ConfirmationNeeded && !dpv.Has(c.History, dpv.StatusConfirmed)}
	if string(c.Recipient) != v.Org {
		p.For = string(c.Recipient)
	}
	if cat, prob := dpv.ParseCategory(c.ResourceID); prob == nil {
		p.CategoryName = cat.Label()
	}
	if ct := c.Body.Content; ct != nil {
		p.Title, p.Summary = ct.MessageTitle, ct.MessageSummary
		if p.Body, err = dpv.NewRenderer().Render(ct.MessageBody); err != nil {
			return err
		}
	}
	if c.Due != nil {
		p.Due = s.OsloTime(*c.Due)
	}
	if dpv.Has(c.History, dpv.StatusConfirmed) {
		p.Confirmed = s.OsloTime(dpv.At(c.History, dpv.StatusConfirmed))
	}
	for _, a := range c.Attachments {
		if a.Uploaded {
			p.Attachments = append(p.Attachments, a)
		}
	}
	for _, h := range dpv.HistoryFor(dpv.ByRecipient, c.History) {
		p.History = append(p.History, historyRow{Status: h.Status.Label(), At: s.OsloTime(h.Changed)})
	}
	p.Frame.Title = p.Title
	s.Render(w, r, "post_melding.html", p)
	return nil
}

// confirm records that the organisation confirms a correspondence that asks for it.
func (s *Feature) confirm(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.load(r, v)
	if err != nil {
		return err
	}
	err = s.DB.ChangeCorrespondence(r.Context(), c.ID, dpv.ByRecipient, dpv.StatusConfirmed, v.Actor())
	var p *dpv.Problem
	switch {
	case errors.As(err, &p):
		s.Flash(r, p.Melding)
	case err != nil:
		return err
	default:
		s.Flash(r, "Meldingen er bekreftet.")
	}
	site.Redirect(w, r, "/portal/post/melding/"+url.PathEscape(c.ID))
	return nil
}

// attachment streams an attachment's bytes from the store, never whole in
// memory, and records AttachmentsDownloaded.
func (s *Feature) attachment(w http.ResponseWriter, r *http.Request, v *site.Visitor) error {
	c, err := s.load(r, v)
	if err != nil {
		return err
	}
	a, err := s.DB.PostAttachment(r.Context(), r.PathValue("vedlegg"))
	if err != nil || a.Correspondence != c.ID || !a.Uploaded {
		return store.ErrNotFound
	}
	if err := s.DB.ChangeCorrespondence(r.Context(), c.ID, dpv.ByRecipient, dpv.StatusAttachmentsDownloaded, v.Actor()); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(a.Size, 10))
	w.Header().Set("Content-Disposition", `attachment; filename*=UTF-8''`+url.PathEscape(a.FileName))
	if err := s.DB.WriteAttachment(r.Context(), a.ID, w); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		s.Log.Error("attachment download", "err", err)
	}
	return nil
}
