package dpa

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"deling/internal/access"
)

// TestHash_Stable_DPA01: the same content hashes the same, whatever the
// order of its sets, trailing blanks or line ends.
func TestHash_Stable_DPA01(t *testing.T) {
	a := complete(t)
	b := complete(t)
	b.Channels = []access.Channel{access.ChannelWeb, access.ChannelAPI, access.ChannelWeb}
	b.Annex1.Purpose = "  Saksbehandling av sosialhjelp.\r\n"
	b.Annex1.Locations = []string{"norge"}
	if Hash(a) != Hash(b) {
		t.Error("equivalent content hashes differently")
	}
	if Hash(a) != Hash(a) || len(Hash(a)) != 64 {
		t.Errorf("Hash = %q", Hash(a))
	}
	before := Hash(b)
	_ = Canonical(b)
	if b.Annex1.Purpose != "  Saksbehandling av sosialhjelp.\r\n" || Hash(b) != before {
		t.Error("Canonical changed its argument")
	}
}

// TestHash_AnyFieldChanges_DPA01: changing any single field of the content,
// at any depth, changes the hash.
func TestHash_AnyFieldChanges_DPA01(t *testing.T) {
	base := complete(t)
	base.ValidTo = "2026-12-31"
	base.Transfers = []Transfer{{Country: "Japan", Basis: BasisAdequacy}}
	want := Hash(base)
	n := 0
	var walk func(v reflect.Value, path string)
	walk = func(v reflect.Value, path string) {
		switch v.Kind() {
		case reflect.Struct:
			for i := 0; i < v.NumField(); i++ {
				walk(v.Field(i), path+"."+v.Type().Field(i).Name)
			}
		case reflect.Slice:
			if v.Len() == 0 {
				t.Fatalf("%s: empty in the fixture; fill it so the test reaches it", path)
			}
			for i := 0; i < v.Len(); i++ {
				walk(v.Index(i), path+"[]")
			}
		case reflect.String:
			old := v.String()
			v.SetString(old + "x")
			if Hash(base) == want {
				t.Errorf("%s: change did not change the hash", path)
			}
			v.SetString(old)
			n++
		case reflect.Int:
			old := v.Int()
			v.SetInt(old + 1)
			if Hash(base) == want {
				t.Errorf("%s: change did not change the hash", path)
			}
			v.SetInt(old)
			n++
		default:
			t.Fatalf("%s: kind %s not covered", path, v.Kind())
		}
	}
	walk(reflect.ValueOf(&base).Elem(), "Content")
	if Hash(base) != want {
		t.Fatal("the walk did not restore the content")
	}
	if n < 30 {
		t.Errorf("only %d fields changed", n)
	}
}

func TestCheckSeen_DPA01(t *testing.T) {
	v := &Version{Number: 2, Content: complete(t)}
	if err := v.CheckSeen(v.Hash()); err != nil {
		t.Errorf("the hash shown: %v", err)
	}
	seen := v.Hash()
	v.Content.Annex2.Encryption = "ingen"
	if err := v.CheckSeen(seen); !errors.Is(err, ErrChanged) {
		t.Errorf("changed since shown: err = %v", err)
	}
	if err := v.CheckSeen(""); !errors.Is(err, ErrChanged) {
		t.Errorf("nothing shown: err = %v", err)
	}
	a := active(complete(t))
	if !a.Versions[0].Valid() {
		t.Error("signed version not valid")
	}
	a.Versions[0].Content.Annex1.Purpose = "Noe annet"
	if a.Versions[0].Valid() || a.ActiveAt(t0) {
		t.Error("content changed after signing still valid")
	}
	if !strings.HasPrefix(string(Canonical(complete(t))), hashFormat) {
		t.Error("canonical encoding lacks its format")
	}
}
