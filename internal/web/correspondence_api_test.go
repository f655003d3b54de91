package web

import (
	"context"
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"deling/internal/ident"
	"deling/internal/post"
)

// The API review of issue 14, over real HTTP.

// Research §1.7: reusing an idempotentKey for another request is 409 with
// Altinn's 1034, nothing stored; a technical sender finds what it sent on
// another's behalf with ?idempotentKey= (Rule DPV-04).
func TestCorrespondenceIdempotentKey_DPV04(t *testing.T) {
	h := newPostHarness(t)
	ctx := context.Background()
	vendor, _ := h.consumer("Systemleverandør AS")
	if err := h.db.AddSenderDelegation(ctx, post.SenderDelegation{Actual: ident.Orgnr(h.sender), Technical: ident.Orgnr(vendor),
		From: time.Now().Add(-time.Minute)}, "staff"); err != nil {
		t.Fatal(err)
	}
	cv := h.client(vendor)
	cv.Scope = post.ScopeWrite
	vendorTok := h.token(cv)
	key := "3f2b8c1d-4e5a-4b6c-9d7e-8f9a0b1c2d3e"
	req := func(title string) map[string]any {
		return map[string]any{"correspondence": map[string]any{"resourceId": "dpv-administrasjon", "sendersReference": "idem-1",
			"propertyList": map[string]string{"senderOrgNumber": h.sender},
			"content":      map[string]any{"messageTitle": title, "messageBody": "Hei."}},
			"recipients": []string{"urn:altinn:organization:identifier-no:" + h.recipient}, "idempotentKey": key}
	}
	a := h.do("POST", vendorTok, "/correspondence/api/v1/correspondence", req("Vedtak"))
	var init struct {
		Correspondences []struct{ CorrespondenceID string }
	}
	if a.status != 200 || json.Unmarshal(a.body, &init) != nil || len(init.Correspondences) != 1 {
		t.Fatalf("initialize: %d %s", a.status, a.body)
	}
	id := init.Correspondences[0].CorrespondenceID
	if a := h.do("POST", vendorTok, "/correspondence/api/v1/correspondence", req("Et annet vedtak")); a.status != 409 || a.altinn(t).ErrorCode != post.CodeDuplicateIdempotentKey {
		t.Fatalf("the key again for another request: %d %s, want 409 with 1034", a.status, a.body)
	}
	if n := h.correspondences(); n != 1 {
		t.Fatalf("%d stored, want 1", n)
	}
	q := "/correspondence/api/v1/correspondence?resourceId=dpv-administrasjon&role=Sender&idempotentKey=" + url.QueryEscape(key)
	for who, tok := range map[string]string{"vendor": vendorTok, "sender": h.senderTok} {
		var got struct{ IDs []string }
		if a := h.do("GET", tok, q, nil); a.status != 200 || json.Unmarshal(a.body, &got) != nil || len(got.IDs) != 1 || got.IDs[0] != id {
			t.Errorf("the %s's lookup by idempotentKey: %d %s, want [%s]", who, a.status, a.body, id)
		}
	}
}

// Rule DPV-06: deling sends e-mail only; a request for SMS is refused with
// a problem that says so, nothing stored.
func TestCorrespondenceSmsRefused_DPV06(t *testing.T) {
	h := newPostHarness(t)
	body := map[string]any{"correspondence": map[string]any{"resourceId": "dpv-administrasjon", "sendersReference": "sms",
		"content":      map[string]any{"messageTitle": "T", "messageBody": "B"},
		"notification": map[string]any{"notificationTemplate": "CustomMessage", "notificationChannel": "Sms", "smsBody": "Ny post"}},
		"recipients": []string{"urn:altinn:organization:identifier-no:" + h.recipient}}
	a := h.do("POST", h.senderTok, "/correspondence/api/v1/correspondence", body)
	if a.status != 400 || a.altinn(t).ErrorCode != post.CodeSmsNotSupported {
		t.Fatalf("SMS: %d %s", a.status, a.body)
	}
	if n := h.correspondences(); n != 0 {
		t.Fatalf("a refused request stored %d", n)
	}
}

// An upload under a Content-Type that is not its attachment's is refused
// (415) before anything is stored; the same bytes as octet-stream go in.
func TestCorrespondenceUploadContentType(t *testing.T) {
	h := newPostHarness(t)
	body := map[string]any{"correspondence": map[string]any{"resourceId": "dpv-administrasjon", "sendersReference": "ct",
		"content": map[string]any{"messageTitle": "T", "messageBody": "B",
			"attachments": []any{map[string]any{"fileName": "vedtak.pdf", "sendersReference": "a"}}}},
		"recipients": []string{"urn:altinn:organization:identifier-no:" + h.recipient}}
	a := h.do("POST", h.senderTok, "/correspondence/api/v1/correspondence", body)
	var init struct{ AttachmentIDs []string }
	if a.status != 200 || json.Unmarshal(a.body, &init) != nil || len(init.AttachmentIDs) != 1 {
		t.Fatalf("initialize: %d %s", a.status, a.body)
	}
	path := "/correspondence/api/v1/attachment/" + init.AttachmentIDs[0] + "/upload"
	if up := h.do("POST", h.senderTok, path, "<html>", "Content-Type", "text/html"); up.status != 415 || up.altinn(t).ErrorCode != post.CodeUploadContentType {
		t.Fatalf("text/html for a .pdf: %d %s", up.status, up.body)
	}
	if at, err := h.db.PostAttachment(context.Background(), init.AttachmentIDs[0]); err != nil || at.Uploaded {
		t.Fatalf("the refused upload was stored: %+v, %v", at, err)
	}
	if up := h.do("POST", h.senderTok, path, "%PDF-1.4", "Content-Type", "application/octet-stream"); up.status != 200 {
		t.Fatalf("octet-stream: %d %s", up.status, up.body)
	}
}
