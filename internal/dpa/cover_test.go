package dpa

import (
	"errors"
	"testing"
	"time"

	"deling/internal/access"
)

func TestCheck_SK04(t *testing.T) {
	c := complete(t)
	p0, p1 := pkg(t, 0), pkg(t, 1)
	d := Delegated{Consumer: ctrl, Processor: proc, Channels: []access.Channel{access.ChannelAPI}, Packages: []string{p0}, AgreementID: "a1"}
	now := t0.Add(time.Hour)
	with := func(f func(a *Agreement)) *Agreement { a := active(c); f(&a); return &a }
	for _, tc := range []struct {
		name string
		a    *Agreement
		d    Delegated
		now  time.Time
		err  error
	}{
		{"covered", with(func(*Agreement) {}), d, now, nil},
		{"all channels covered", with(func(*Agreement) {}), Delegated{Consumer: ctrl, Processor: proc,
			Channels: []access.Channel{access.ChannelWeb, access.ChannelAPI}, Packages: []string{p0}}, now, nil},
		{"no agreement", nil, d, now, ErrNoAgreement},
		{"nothing delegated", with(func(*Agreement) {}), Delegated{Consumer: ctrl, Processor: proc}, now, ErrEmptyDelegate},
		{"wrong processor", with(func(*Agreement) {}), Delegated{Consumer: ctrl, Processor: other, Channels: d.Channels, Packages: d.Packages}, now, ErrWrongParties},
		{"wrong consumer", with(func(*Agreement) {}), Delegated{Consumer: other, Processor: proc, Channels: d.Channels, Packages: d.Packages}, now, ErrWrongParties},
		{"parties swapped", with(func(*Agreement) {}), Delegated{Consumer: proc, Processor: ctrl, Channels: d.Channels, Packages: d.Packages}, now, ErrWrongParties},
		{"channel not covered", with(func(*Agreement) {}), Delegated{Consumer: ctrl, Processor: proc,
			Channels: []access.Channel{access.ChannelAPI, access.ChannelExtract}, Packages: []string{p0}}, now, ErrNotCovered},
		{"package partly covered", with(func(*Agreement) {}), Delegated{Consumer: ctrl, Processor: proc,
			Channels: d.Channels, Packages: []string{p0, p1}}, now, ErrNotCovered},
		{"before in force", with(func(*Agreement) {}), d, t0.Add(-time.Second), ErrNotInForce},
		{"pending", with(func(a *Agreement) { a.Status = StatusPending }), d, now, ErrNotInForce},
		{"stopped (DPA-11)", with(func(a *Agreement) { a.Status = StatusStopped }), d, now, ErrNotInForce},
		{"ended (DPA-10)", with(func(a *Agreement) { a.Status = StatusEnded }), d, now, ErrNotInForce},
		{"deletion confirmed", with(func(a *Agreement) { a.Status = StatusDeleted }), d, now, ErrNotInForce},
		{"one signature only", with(func(a *Agreement) { a.Versions[0].ProcessorSig = nil }), d, now, ErrNotInForce},
		{"signature on other content", with(func(a *Agreement) { a.Versions[0].ProcessorSig.Hash = "x" }), d, now, ErrNotInForce},
		{"term ran out", with(func(a *Agreement) { a.Versions[0].Content.ValidTo = "2025-03-10"; resign(a) }), d,
			time.Date(2025, 3, 11, 0, 0, 0, 0, time.UTC), ErrNotInForce},
		{"last day of term", with(func(a *Agreement) { a.Versions[0].Content.ValidTo = "2025-03-10"; resign(a) }), d,
			time.Date(2025, 3, 10, 20, 0, 0, 0, time.UTC), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.a, tc.d, tc.now)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			if Covers(tc.a, tc.d, tc.now) != (tc.err == nil) {
				t.Error("Covers disagrees with Check")
			}
			if (Reason(err) == "") != (err == nil) {
				t.Errorf("Reason = %q", Reason(err))
			}
		})
	}
}

// resign signs the first version's content as it now is.
func resign(a *Agreement) {
	h := a.Versions[0].Hash()
	a.Versions[0].ControllerSig.Hash, a.Versions[0].ProcessorSig.Hash = h, h
}

// TestCheck_NewVersionInForce_SK04: coverage follows the version in force,
// not a pending amendment.
func TestCheck_NewVersionInForce_SK04(t *testing.T) {
	c := complete(t)
	a := active(c)
	wider := c.clone()
	wider.Channels = append(wider.Channels, access.ChannelExtract)
	a.Versions = append(a.Versions, Version{Number: 2, Content: wider, Status: VersionToSign})
	d := Delegated{Consumer: ctrl, Processor: proc, Channels: []access.Channel{access.ChannelExtract}, Packages: c.Packages}
	if err := Check(&a, d, t0.Add(time.Hour)); !errors.Is(err, ErrNotCovered) {
		t.Fatalf("pending amendment covered: %v", err)
	}
	h := Hash(wider)
	at := t0.Add(2 * time.Hour)
	a.Versions[0].Status = VersionSuperseded
	a.Versions[1] = Version{Number: 2, Content: wider, Status: VersionSigned, InForceAt: at,
		ControllerSig: &Signature{Hash: h}, ProcessorSig: &Signature{Hash: h}}
	if err := Check(&a, d, at); err != nil {
		t.Errorf("signed amendment: %v", err)
	}
	if err := Check(&a, d, at.Add(-time.Minute)); !errors.Is(err, ErrNotCovered) {
		t.Errorf("before the amendment: %v", err)
	}
}

func TestUncovered_SK04(t *testing.T) {
	c := complete(t)
	a1 := active(c)
	a2 := active(c)
	a2.ID, a2.Status = "a2", StatusStopped
	as := []Agreement{a1, a2}
	now := t0.Add(time.Hour)
	base := Delegated{Consumer: ctrl, Processor: proc, Channels: []access.Channel{access.ChannelAPI}, Packages: c.Packages}
	ds := []Delegated{
		{ID: "ok", AgreementID: "a1", Consumer: base.Consumer, Processor: base.Processor, Channels: base.Channels, Packages: base.Packages},
		{ID: "unlinked", Consumer: base.Consumer, Processor: base.Processor, Channels: base.Channels, Packages: base.Packages},
		{ID: "stopped", AgreementID: "a2", Consumer: base.Consumer, Processor: base.Processor, Channels: base.Channels, Packages: base.Packages},
		{ID: "missing", AgreementID: "gone", Consumer: base.Consumer, Processor: base.Processor, Channels: base.Channels, Packages: base.Packages},
		{ID: "other", AgreementID: "a1", Consumer: ctrl, Processor: other, Channels: base.Channels, Packages: base.Packages},
	}
	gaps := Uncovered(ds, as, now)
	want := map[string]error{"unlinked": ErrNoAgreement, "stopped": ErrNotInForce, "missing": ErrNoAgreement, "other": ErrWrongParties}
	if len(gaps) != len(want) {
		t.Fatalf("got %d gaps, want %d: %+v", len(gaps), len(want), gaps)
	}
	for _, g := range gaps {
		if !errors.Is(g.Err, want[g.Delegation.ID]) || g.Reason == "" {
			t.Errorf("%s: err = %v, reason %q", g.Delegation.ID, g.Err, g.Reason)
		}
	}
	// A migration never links by itself: the unlinked one names its candidate.
	if gaps[0].Delegation.ID != "unlinked" || len(gaps[0].Candidates) != 1 || gaps[0].Candidates[0] != "a1" {
		t.Errorf("unlinked: %+v", gaps[0])
	}
	if got, err := Covering(as, base, now); err != nil || got.ID != "a1" {
		t.Errorf("Covering for a new delegation = %v, %v", got, err)
	}
	if _, err := Covering(as[1:], base, now); !errors.Is(err, ErrNoAgreement) {
		t.Errorf("Covering with only a stopped one: %v", err)
	}
}

// TestInForce_TieGoesToNewer_SK04: two versions in force from the same
// instant — the newer, higher number is the one in force (finding 12).
func TestInForce_TieGoesToNewer_SK04(t *testing.T) {
	c := complete(t)
	a := active(c)
	narrower := c.clone()
	narrower.Packages = narrower.Packages[:1]
	h := Hash(narrower)
	a.Versions[0].Status = VersionSuperseded
	a.Versions = append(a.Versions, Version{Number: 2, Content: narrower, Status: VersionSigned, InForceAt: a.Versions[0].InForceAt,
		ControllerSig: &Signature{Hash: h}, ProcessorSig: &Signature{Hash: h}})
	if v := a.InForce(t0.Add(time.Hour)); v == nil || v.Number != 2 {
		t.Fatalf("in force: %+v, want version 2", v)
	}
}

// TestTermEnd_SK04: a delegation ends no later than the term of the version in force.
func TestTermEnd_SK04(t *testing.T) {
	c := complete(t)
	c.ValidTo = ""
	a := active(c)
	resign(&a)
	if _, ok := a.TermEnd(t0.Add(time.Hour)); ok {
		t.Fatal("an agreement without a term has a term end")
	}
	a.Versions[0].Content.ValidTo = "2030-06-30"
	resign(&a)
	end, ok := a.TermEnd(t0.Add(time.Hour))
	if want := time.Date(2030, 7, 1, 0, 0, 0, 0, oslo()); !ok || !end.Equal(want) {
		t.Fatalf("term end = %v, %v; want %v", end, ok, want)
	}
}
