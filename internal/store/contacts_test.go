package store

import (
	"context"
	"errors"
	"sync"
	"testing"

	"deling/internal/governance"
)

// Rule AA-06: a consumer keeps at least one administrative contact, also
// when two are removed or changed at the same moment.
func TestContactKeepingOne(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const org = "310000081"
		save := func(navn string, role governance.ContactRole) governance.Contact {
			c, err := db.SaveContact(ctx, governance.Contact{Consumer: org, Navn: navn, Epost: navn + "@k.test", Rolle: role}, "test")
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		a, b, tech := save("a", governance.ContactAdministrative), save("b", governance.ContactAdministrative), save("t", governance.ContactTechnical)
		// Two removals at once: one of them is refused.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, c := range []governance.Contact{a, b} {
			wg.Go(func() { errs[i] = db.RemoveContactKeepingOne(ctx, org, c.ID, "user:x") })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) || !(errors.Is(errs[0], ErrConflict) || errors.Is(errs[1], ErrConflict)) {
			t.Fatalf("two concurrent removals: %v, %v", errs[0], errs[1])
		}
		left := b
		if errs[1] == nil {
			left = a
		}
		// The last one may not become technical, but may be changed otherwise.
		c := left
		c.Rolle = governance.ContactTechnical
		if _, err := db.ChangeContactKeepingOne(ctx, c, "user:x"); !errors.Is(err, ErrConflict) {
			t.Fatalf("the last administrative contact made technical: %v", err)
		}
		c.Rolle, c.Navn = governance.ContactAdministrative, "Nytt navn"
		if _, err := db.ChangeContactKeepingOne(ctx, c, "user:x"); err != nil {
			t.Fatal(err)
		}
		if err := db.RemoveContactKeepingOne(ctx, org, tech.ID, "user:x"); err != nil {
			t.Fatal(err)
		}
		if err := db.RemoveContactKeepingOne(ctx, "310000082", left.ID, "user:x"); !errors.Is(err, ErrNotFound) {
			t.Fatalf("another consumer's contact: %v", err)
		}
		// A new administrative contact, and two changes at once: one of them is refused.
		n := save("n", governance.ContactAdministrative)
		for i, c := range []governance.Contact{left, n} {
			c.Rolle = governance.ContactSecurity
			wg.Go(func() { _, errs[i] = db.ChangeContactKeepingOne(ctx, c, "user:x") })
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) || !(errors.Is(errs[0], ErrConflict) || errors.Is(errs[1], ErrConflict)) {
			t.Fatalf("two concurrent changes: %v, %v", errs[0], errs[1])
		}
		cs, _ := db.Contacts(ctx, org)
		if len(cs) != 2 || adminCount(cs) != 1 {
			t.Fatalf("contacts %+v", cs)
		}
	})
}

func adminCount(cs []governance.Contact) int {
	n := 0
	for _, c := range cs {
		if c.Rolle == governance.ContactAdministrative {
			n++
		}
	}
	return n
}
