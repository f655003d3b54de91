package governance

import (
	"testing"
	"time"
)

var tt0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

// Rule AA-24: a version counts as accepted from EffectiveFrom unless the organisation objected before then.
func TestStateOf(t *testing.T) {
	v := TermsVersion{ID: "v2", Kind: Bruksvilkar, Version: 2, PublishedAt: tt0, EffectiveFrom: tt0.Add(30 * 24 * time.Hour)}
	before, at, after := v.EffectiveFrom.Add(-time.Second), v.EffectiveFrom, v.EffectiveFrom.Add(48*time.Hour)
	objection := func(st ObjectionStatus, when time.Time) []Objection {
		return []Objection{{ID: "o", VersionID: "v2", Status: st, CreatedAt: when}}
	}
	accepted := &Acceptance{VersionID: "v2", AcceptedAt: tt0.Add(time.Hour)}
	tests := []struct {
		name       string
		hasAccess  bool
		acc        *Acceptance
		objections []Objection
		at         time.Time
		want       TermsState
	}{
		{"announced, not yet in effect", true, nil, nil, before, TermsAwaiting},
		{"AA-24 deemed accepted at effective_from", true, nil, nil, at, TermsDeemedAccepted},
		{"AA-24 deemed accepted after effective_from", true, nil, nil, after, TermsDeemedAccepted},
		{"no access: nothing is deemed", false, nil, nil, after, TermsNotAccepted},
		{"accepted explicitly", true, accepted, nil, before, TermsAccepted},
		{"accepted explicitly without access", false, accepted, nil, after, TermsAccepted},
		{"AA-24 an objection before the date prevents deemed acceptance", true, nil, objection(ObjectionPending, before.Add(-time.Hour)), after, TermsObjected},
		{"objection met", true, nil, objection(ObjectionMet, before.Add(-time.Hour)), after, TermsObjectionMet},
		{"objection cannot be met", true, nil, objection(ObjectionRejected, before.Add(-time.Hour)), after, TermsObjectionRefused},
		{"objection after acceptance wins", true, accepted, objection(ObjectionPending, tt0.Add(2*time.Hour)), before, TermsObjected},
		{"acceptance after a met objection wins", true, &Acceptance{VersionID: "v2", AcceptedAt: tt0.Add(3 * time.Hour)}, objection(ObjectionMet, tt0.Add(2*time.Hour)), after, TermsAccepted},
		{"another version's acceptance does not count", true, &Acceptance{VersionID: "v1", AcceptedAt: tt0}, nil, before, TermsAwaiting},
		{"another version's objection does not count", true, nil, []Objection{{VersionID: "v1", Status: ObjectionPending, CreatedAt: tt0}}, after, TermsDeemedAccepted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StateOf(v, tt.hasAccess, tt.acc, tt.objections, tt.at); got != tt.want {
				t.Fatalf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// Rule AA-24: an objection is made before the version takes effect, once.
func TestCanObject(t *testing.T) {
	v := TermsVersion{ID: "v2", PublishedAt: tt0, EffectiveFrom: tt0.Add(30 * 24 * time.Hour)}
	tests := []struct {
		state TermsState
		at    time.Time
		want  bool
	}{
		{TermsAwaiting, tt0, true},
		{TermsAccepted, tt0, true},
		{TermsAwaiting, v.EffectiveFrom, false},
		{TermsDeemedAccepted, v.EffectiveFrom.Add(time.Hour), false},
		{TermsObjected, tt0, false},
		{TermsObjectionRefused, tt0, false},
	}
	for _, tt := range tests {
		if got := CanObject(v, tt.state, tt.at); got != tt.want {
			t.Errorf("CanObject(%s, %s): got %v, want %v", tt.state, tt.at, got, tt.want)
		}
	}
	if CanAccept(TermsObjectionRefused) || CanAccept(TermsAccepted) || !CanAccept(TermsAwaiting) || !CanAccept(TermsDeemedAccepted) {
		t.Error("CanAccept")
	}
}

func TestTermsValidate(t *testing.T) {
	notice := 30 * 24 * time.Hour
	tests := []struct {
		name     string
		v        TermsVersion
		first    bool
		badField string
	}{
		{"first version takes effect at once", TermsVersion{Kind: Bruksvilkar, Title: "Vilkår", Body: "Tekst", PublishedAt: tt0}, true, ""},
		{"AA-24 a later version is announced ahead", TermsVersion{Kind: Bruksvilkar, Title: "Vilkår", Body: "Tekst", PublishedAt: tt0, EffectiveFrom: tt0.Add(notice)}, false, ""},
		{"AA-24 too soon", TermsVersion{Kind: Bruksvilkar, Title: "Vilkår", Body: "Tekst", PublishedAt: tt0, EffectiveFrom: tt0.Add(notice - time.Minute)}, false, "gjelder_fra"},
		{"no date", TermsVersion{Kind: Delingsvilkar, Title: "Vilkår", Body: "Tekst", PublishedAt: tt0}, false, "gjelder_fra"},
		{"no title", TermsVersion{Kind: Bruksvilkar, Title: "  ", Body: "Tekst", PublishedAt: tt0}, true, "tittel"},
		{"no text", TermsVersion{Kind: Bruksvilkar, Title: "Vilkår", PublishedAt: tt0}, true, "tekst"},
		{"unknown kind", TermsVersion{Kind: "annet", Title: "Vilkår", Body: "Tekst", PublishedAt: tt0}, true, "type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := tt.v.Validate(tt.first, notice)
			if tt.badField == "" && len(bad) > 0 || tt.badField != "" && (len(bad) != 1 || bad[tt.badField] == "") {
				t.Fatalf("got %v, want a message for %q only", bad, tt.badField)
			}
			if tt.first && len(bad) == 0 && !tt.v.EffectiveFrom.Equal(tt.v.PublishedAt) {
				t.Fatalf("first version effective %s, published %s", tt.v.EffectiveFrom, tt.v.PublishedAt)
			}
		})
	}
}

func TestInEffect(t *testing.T) {
	day := 24 * time.Hour
	vs := []TermsVersion{
		{ID: "b1", Kind: Bruksvilkar, Version: 1, PublishedAt: tt0, EffectiveFrom: tt0},
		{ID: "b2", Kind: Bruksvilkar, Version: 2, PublishedAt: tt0.Add(day), EffectiveFrom: tt0.Add(40 * day)},
		{ID: "b3", Kind: Bruksvilkar, Version: 3, PublishedAt: tt0.Add(2 * day), EffectiveFrom: tt0.Add(35 * day)},
		{ID: "d1", Kind: Delingsvilkar, Version: 1, PublishedAt: tt0, EffectiveFrom: tt0},
	}
	cur, up := InEffect(vs, Bruksvilkar, tt0.Add(3*day))
	if cur == nil || cur.ID != "b1" || len(up) != 2 || up[0].ID != "b3" || up[1].ID != "b2" {
		t.Fatalf("current %v, upcoming %v", cur, up)
	}
	cur, up = InEffect(vs, Bruksvilkar, tt0.Add(41*day))
	if cur == nil || cur.ID != "b3" || len(up) != 0 {
		// b3 is the highest version in effect.
		t.Fatalf("later: current %v, upcoming %v", cur, up)
	}
	if cur, _ := InEffect(vs, Delingsvilkar, tt0.Add(-time.Hour)); cur != nil {
		t.Fatalf("before publication: %v", cur)
	}
}

func TestParagraphs(t *testing.T) {
	got := Paragraphs("Første ledd.\r\n\r\n\r\nAndre ledd\nmed to linjer.\n\n  ")
	if len(got) != 2 || got[0] != "Første ledd." || got[1] != "Andre ledd\nmed to linjer." {
		t.Fatalf("got %q", got)
	}
}
