package correspondence

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"deling/internal/ident"
	"deling/internal/post"
	"deling/internal/store"
)

// initialized is Altinn's InitializeCorrespondencesResponseExt.
type initialized struct {
	Correspondences []initializedOne `json:"correspondences"`
	AttachmentIDs   []string         `json:"attachmentIds"`
}

type initializedOne struct {
	CorrespondenceID string      `json:"correspondenceId"`
	Status           post.Status `json:"status"`
	Recipient        string      `json:"recipient"`
	Notifications    []struct{}  `json:"notifications"`
}

// initialize is POST /correspondence: one correspondence per recipient.
func (s *Server) initialize(w http.ResponseWriter, r *http.Request) {
	cl, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if !cl.write {
		writeProblem(w, r, noAccess())
		return
	}
	req, err := post.DecodeInitialize(r.Body, post.MaxRequestBytes)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	req.Normalize()
	now := s.cfg.Now()
	if ps := req.Validate(now, s.cfg.Limits); len(ps) > 0 {
		writeProblem(w, r, ps...)
		return
	}
	// Rule DPV-04: the actual sender, under its delegation to the caller.
	dels, err := s.cfg.DB.SenderDelegations(r.Context(), cl.org)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	origin, p := post.ResolveOrigin(cl.org, req, dels, now)
	if p != nil {
		writeProblem(w, r, p)
		return
	}
	got, err := s.cfg.DB.InitializeCorrespondences(r.Context(),
		store.PostInit{Origin: origin, Request: req, Quota: s.cfg.Quota, Loc: s.cfg.Oslo}, cl.clientID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ids := make([]string, len(got.Correspondences))
	for i, c := range got.Correspondences {
		ids[i] = c.ID
	}
	s.publish(r.Context(), ids)
	// As they stand after publication, which may have run just now.
	current, err := s.cfg.DB.PostStatuses(r.Context(), ids)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := initialized{Correspondences: []initializedOne{}, AttachmentIDs: []string{}}
	if len(got.Correspondences) > 0 {
		// One id per attachment, shared by every recipient's correspondence, as in Altinn 3.
		out.AttachmentIDs = append(out.AttachmentIDs, got.Correspondences[0].Attachments...)
	}
	for _, c := range got.Correspondences {
		st, ok := current[c.ID]
		if !ok {
			st = c.Status
		}
		out.Correspondences = append(out.Correspondences, initializedOne{CorrespondenceID: c.ID, Status: st,
			Recipient: post.RecipientURN(c.Recipient), Notifications: []struct{}{}})
	}
	writeJSON(w, out)
}

// side is how the caller stands to c: its sender (or the technical sender,
// Rule DPV-04) with the write scope, or a reader of the recipient's post
// with the read scope (Rule DPV-03). ok is false for anyone else, who is
// answered as if it did not exist.
func (s *Server) side(ctx context.Context, cl caller, c store.Correspondence) (post.Actor, bool, error) {
	if cl.write && c.Sender == cl.org {
		return post.BySender, true, nil
	}
	if cl.write && c.Technical == cl.org {
		// Rule DPV-04: the technical sender only while the actual sender's delegation is in force.
		dels, err := s.cfg.DB.SenderDelegations(ctx, cl.org)
		if err != nil {
			return "", false, err
		}
		for _, d := range dels {
			if d.Actual == c.Sender && d.InForce(s.cfg.Now()) {
				return post.BySender, true, nil
			}
		}
	}
	if !cl.read || c.Recipient != cl.org {
		return "", false, nil
	}
	v, err := s.reader(ctx, cl)
	if err != nil {
		return "", false, err
	}
	return post.ByRecipient, s.mayRead(v, cl, c), nil
}

// reader is the caller as a reader of its organisation's post (Rule
// DPV-03): the recipient's system reads as an enterprise user of the
// organisation, named by its client id, with Post/Arkiv delegated to it
// (and confidential post explicitly).
func (s *Server) reader(ctx context.Context, cl caller) (post.Viewer, error) {
	party := post.Party{Kind: post.PartyEnterpriseUser, Orgnr: cl.org, Username: cl.clientID}
	dels, err := s.cfg.DB.PostDelegationsTo(ctx, party)
	if err != nil {
		return post.Viewer{}, err
	}
	v := post.Viewer{Party: party, At: s.cfg.Now()}
	for _, d := range dels {
		v.Delegations = append(v.Delegations, d.Delegation)
	}
	return v, nil
}

func (s *Server) mayRead(v post.Viewer, cl caller, c store.Correspondence) bool {
	return cl.read && post.MayRead(v, cl.org, post.Readable{Recipient: c.Recipient, Confidential: c.Confidential, Status: c.Status}) &&
		!c.Publish.After(s.cfg.Now())
}

// load authenticates, loads {id} and decides the caller's side; it answers
// and returns false when the request goes no further.
func (s *Server) load(w http.ResponseWriter, r *http.Request) (caller, store.Correspondence, post.Actor, bool) {
	cl, ok := s.authenticate(w, r)
	if !ok {
		return cl, store.Correspondence{}, "", false
	}
	c, err := s.cfg.DB.Correspondence(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return cl, c, "", false
	}
	by, ok, err := s.side(r.Context(), cl, c)
	if err != nil {
		s.fail(w, r, err)
		return cl, c, "", false
	}
	if !ok {
		writeProblem(w, r, post.NotFound())
		return cl, c, "", false
	}
	return cl, c, by, true
}

// overviewExt is Altinn's CorrespondenceOverviewExt; details add statusHistory.
type overviewExt struct {
	CorrespondenceID     string                   `json:"correspondenceId"`
	Recipient            string                   `json:"recipient"`
	Sender               string                   `json:"sender,omitempty"`
	SendersReference     string                   `json:"sendersReference"`
	MessageSender        string                   `json:"messageSender,omitempty"`
	ResourceID           string                   `json:"resourceId"`
	Content              *post.Content            `json:"content,omitempty"`
	Created              time.Time                `json:"created"`
	RequestedPublishTime time.Time                `json:"requestedPublishTime"`
	Published            *time.Time               `json:"published,omitempty"`
	Read                 *time.Time               `json:"read,omitempty"`
	DueDateTime          *time.Time               `json:"dueDateTime,omitempty"`
	IsConfirmationNeeded bool                     `json:"isConfirmationNeeded"`
	IsConfidential       bool                     `json:"isConfidential"`
	Status               post.Status              `json:"status"`
	StatusText           string                   `json:"statusText"`
	StatusChanged        time.Time                `json:"statusChanged"`
	ExternalReferences   []post.ExternalReference `json:"externalReferences,omitempty"`
	PropertyList         map[string]string        `json:"propertyList,omitempty"`
	Attachments          []attachmentExt          `json:"attachments"`
	Notifications        []post.BulkNotification  `json:"notifications"`
	StatusHistory        []statusExt              `json:"statusHistory,omitempty"`
}

type statusExt struct {
	Status        post.Status `json:"status"`
	StatusText    string      `json:"statusText"`
	StatusChanged time.Time   `json:"statusChanged"`
}

type attachmentExt struct {
	ID               string `json:"id"`
	FileName         string `json:"fileName"`
	DisplayName      string `json:"displayName,omitempty"`
	SendersReference string `json:"sendersReference"`
	Checksum         string `json:"checksum,omitempty"`
	Size             int64  `json:"size"`
	Status           string `json:"status"`
}

func attachmentOf(a store.PostAttachment) attachmentExt {
	st := "Initialized"
	switch {
	case a.Purged:
		st = "Purged"
	case a.Uploaded:
		st = "Published"
	}
	return attachmentExt{ID: a.ID, FileName: a.FileName, DisplayName: a.DisplayName, SendersReference: a.SendersReference,
		Checksum: a.Checksum, Size: a.Size, Status: st}
}

// view is c as by sees it: the recipient sees the actual sender only (Rule
// DPV-04) and not the propertyList that names it; the sender no longer sees
// the content once published (research §1.4).
func view(c store.Correspondence, by post.Actor, withHistory bool) overviewExt {
	hist := post.HistoryFor(by, c.History)
	o := overviewExt{CorrespondenceID: c.ID, Recipient: post.RecipientURN(c.Recipient),
		SendersReference: c.SendersReference, MessageSender: c.MessageSender, ResourceID: c.ResourceID,
		Created: c.Created, RequestedPublishTime: c.Publish, DueDateTime: c.Due, IsConfirmationNeeded: c.ConfirmationNeeded,
		IsConfidential: c.Confidential, Status: c.Status, StatusText: c.Status.Label(),
		ExternalReferences: c.Body.ExternalReferences, Attachments: []attachmentExt{}, Notifications: c.NotificationsHistory}
	// Review finding 8: the register's own letters have no organisation
	// number as sender in deling, so they carry none rather than a made-up one.
	if _, err := ident.ParseOrgnr(string(c.Sender)); err == nil {
		o.Sender = post.RecipientURN(c.Sender)
	}
	if by == post.BySender {
		o.PropertyList = c.Body.PropertyList
	}
	if by == post.ByRecipient || !post.Has(c.History, post.StatusPublished) {
		o.Content = c.Body.Content
	}
	if o.Content != nil {
		cc := *o.Content
		cc.Attachments = nil
		o.Content = &cc
	}
	if t := post.At(c.History, post.StatusPublished); !t.IsZero() {
		o.Published = &t
	}
	if t := post.At(c.History, post.StatusRead); !t.IsZero() {
		o.Read = &t
	}
	for _, e := range hist {
		if e.Status == c.Status {
			o.StatusChanged = e.Changed
		}
		if withHistory {
			o.StatusHistory = append(o.StatusHistory, statusExt{Status: e.Status, StatusText: e.Status.Label(), StatusChanged: e.Changed})
		}
	}
	for _, a := range c.Attachments {
		o.Attachments = append(o.Attachments, attachmentOf(a))
	}
	return o
}

// overview is GET /correspondence/{id}; a recipient's call records Fetched.
func (s *Server) overview(w http.ResponseWriter, r *http.Request) { s.show(w, r, false) }

// details is GET /correspondence/{id}/details, with the status history.
func (s *Server) details(w http.ResponseWriter, r *http.Request) { s.show(w, r, true) }

func (s *Server) show(w http.ResponseWriter, r *http.Request, withHistory bool) {
	cl, c, by, ok := s.load(w, r)
	if !ok {
		return
	}
	if by == post.ByRecipient {
		// Rule DPV-03: reading is recorded.
		if err := s.cfg.DB.FetchCorrespondence(r.Context(), c.ID, cl.clientID); err != nil {
			s.fail(w, r, err)
			return
		}
		var err error
		if c, err = s.cfg.DB.Correspondence(r.Context(), c.ID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	writeJSON(w, view(c, by, withHistory))
}

func (s *Server) markAsRead(w http.ResponseWriter, r *http.Request) {
	s.recipientStep(w, r, post.StatusRead)
}

func (s *Server) confirm(w http.ResponseWriter, r *http.Request) {
	s.recipientStep(w, r, post.StatusConfirmed)
}

// recipientStep records Read or Confirmed and answers with the id, as Altinn does.
func (s *Server) recipientStep(w http.ResponseWriter, r *http.Request, to post.Status) {
	cl, c, by, ok := s.load(w, r)
	if !ok {
		return
	}
	if by != post.ByRecipient {
		writeProblem(w, r, post.NotFound())
		return
	}
	if err := s.cfg.DB.ChangeCorrespondence(r.Context(), c.ID, by, to, cl.clientID); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, c.ID)
}

// purge is DELETE /correspondence/{id}/purge: the recipient's own, or the
// sender's before publication (research §1.5).
func (s *Server) purge(w http.ResponseWriter, r *http.Request) {
	cl, c, by, ok := s.load(w, r)
	if !ok {
		return
	}
	if err := s.cfg.DB.ChangeCorrespondence(r.Context(), c.ID, by, post.PurgeStatus(by), cl.clientID); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, c.ID)
}

// list is GET /correspondence: ids, newest first, at most 1000 (research §1.8).
func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	cl, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	q, ps := post.ParseListQuery(r.URL.Query())
	if len(ps) > 0 {
		writeProblem(w, r, ps...)
		return
	}
	// The scopes limit the roles: a sender lists what it sent, a recipient what it got.
	switch {
	case q.Role == post.RoleSender && !cl.write, q.Role == post.RoleRecipient && !cl.read:
		writeProblem(w, r, noAccess())
		return
	case q.Role == post.RoleRecipientAndSender && !(cl.write && cl.read):
		q.Role = post.RoleSender
		if cl.read {
			q.Role = post.RoleRecipient
		}
	}
	ids, err := s.cfg.DB.ListCorrespondences(r.Context(), cl.org, q)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if q.Role != post.RoleSender {
		ids = s.visible(r.Context(), cl, ids)
	}
	writeJSON(w, map[string][]string{"ids": ids})
}

// visible keeps the ids the caller may see: as their sender, or as a
// reader of the recipient's post (Rule DPV-03). Two queries, however many ids.
func (s *Server) visible(ctx context.Context, cl caller, ids []string) []string {
	out := []string{}
	heads, err := s.cfg.DB.CorrespondenceHeads(ctx, ids)
	if err != nil {
		return out
	}
	v, err := s.reader(ctx, cl)
	if err != nil {
		return out
	}
	ok := map[string]bool{}
	for _, c := range heads {
		ok[c.ID] = (cl.write && (c.Sender == cl.org || c.Technical == cl.org)) || (c.Recipient == cl.org && s.mayRead(v, cl, c))
	}
	for _, id := range ids {
		if ok[id] {
			out = append(out, id)
		}
	}
	return out
}

// bulkStatus is POST /correspondence/statushistory (Rule DPV-05): the
// status and notification history of up to 10,000 of the sender's
// correspondences by their references, LimitReached when more matched.
func (s *Server) bulkStatus(w http.ResponseWriter, r *http.Request) {
	cl, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if !cl.write {
		writeProblem(w, r, noAccess())
		return
	}
	req, err := post.DecodeBulkStatus(r.Body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ps := req.Validate(); len(ps) > 0 {
		writeProblem(w, r, ps...)
		return
	}
	resp, err := s.cfg.DB.BulkStatus(r.Context(), cl.org, req.SendersReferences)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, resp)
}

// senderAttachment loads {attachmentId} for its correspondence's sender.
func (s *Server) senderAttachment(w http.ResponseWriter, r *http.Request) (caller, store.PostAttachment, bool) {
	cl, ok := s.authenticate(w, r)
	if !ok {
		return cl, store.PostAttachment{}, false
	}
	a, err := s.cfg.DB.PostAttachment(r.Context(), r.PathValue("attachmentId"))
	if err != nil {
		s.fail(w, r, err)
		return cl, a, false
	}
	c, err := s.cfg.DB.Correspondence(r.Context(), a.Correspondence)
	if err != nil {
		s.fail(w, r, err)
		return cl, a, false
	}
	if by, ok, err := s.side(r.Context(), cl, c); err != nil || !ok || by != post.BySender {
		writeProblem(w, r, post.NotFound())
		return cl, a, false
	}
	return cl, a, true
}

// UploadReadTimeout is how long an attachment upload may take to arrive.
const UploadReadTimeout = 30 * time.Minute

// upload is POST /attachment/{attachmentId}/upload: the bytes, streamed
// (application/octet-stream, or the type of the attachment's file),
// checked against checksum and size.
func (s *Server) upload(w http.ResponseWriter, r *http.Request) {
	cl, a, ok := s.senderAttachment(w, r)
	if !ok {
		return
	}
	// Both before the store opens a file or stages a chunk: the declared
	// length over the limit, and a Content-Type that is not the attachment's.
	if n := r.ContentLength; n > s.cfg.MaxAttachmentBytes {
		writeProblem(w, r, post.AttachmentTooLarge(s.cfg.MaxAttachmentBytes))
		return
	}
	if p := post.CheckUploadType(a.FileName, r.Header.Get("Content-Type")); p != nil {
		writeProblem(w, r, p)
		return
	}
	// The server's read timeout is for ordinary requests; an attachment of
	// up to MaxAttachmentBytes gets its own (review finding 7).
	if err := http.NewResponseController(w).SetReadDeadline(time.Now().Add(UploadReadTimeout)); err != nil {
		s.cfg.Log.Warn("upload read deadline", "err", err)
	}
	if err := s.cfg.DB.UploadAttachment(r.Context(), a.ID, r.Body, s.cfg.MaxAttachmentBytes, cl.clientID); err != nil {
		s.fail(w, r, err)
		return
	}
	// What the upload made ready: the correspondences that share the attachment.
	if ids, err := s.cfg.DB.AttachmentCorrespondences(r.Context(), a.ID); err != nil {
		s.cfg.Log.Error("attachment correspondences", "err", err)
	} else {
		s.publish(r.Context(), ids)
	}
	if a, err := s.cfg.DB.PostAttachment(r.Context(), a.ID); err == nil {
		writeJSON(w, attachmentOf(a))
		return
	}
	writeJSON(w, attachmentOf(a))
}

// attachmentOverview is GET /attachment/{attachmentId} for the sender.
func (s *Server) attachmentOverview(w http.ResponseWriter, r *http.Request) {
	_, a, ok := s.senderAttachment(w, r)
	if ok {
		writeJSON(w, attachmentOf(a))
	}
}

// senderDownload is GET /attachment/{attachmentId}/download for the sender.
func (s *Server) senderDownload(w http.ResponseWriter, r *http.Request) {
	if _, a, ok := s.senderAttachment(w, r); ok {
		s.stream(w, r, a)
	}
}

// recipientDownload is GET /correspondence/{id}/attachment/{attachmentId}/download;
// it records AttachmentsDownloaded.
func (s *Server) recipientDownload(w http.ResponseWriter, r *http.Request) {
	cl, c, by, ok := s.load(w, r)
	if !ok {
		return
	}
	i := slices.IndexFunc(c.Attachments, func(a store.PostAttachment) bool { return a.ID == r.PathValue("attachmentId") })
	if i < 0 || by != post.ByRecipient {
		writeProblem(w, r, post.NotFound())
		return
	}
	a := c.Attachments[i]
	if err := s.cfg.DB.ChangeCorrespondence(r.Context(), c.ID, by, post.StatusAttachmentsDownloaded, cl.clientID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.stream(w, r, a)
}

// stream writes an attachment's bytes as they come from the store.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, a store.PostAttachment) {
	// Review finding 8: a purged attachment's bytes are gone.
	if !a.Uploaded || a.Purged {
		writeProblem(w, r, post.NotFound())
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.FormatInt(a.Size, 10))
	w.Header().Set("Content-Disposition", `attachment; filename*=UTF-8''`+url.PathEscape(a.FileName))
	w.Header().Set("Cache-Control", "no-store")
	if err := s.cfg.DB.WriteAttachment(r.Context(), a.ID, w); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		s.cfg.Log.Error("attachment download", "err", err)
	}
}
