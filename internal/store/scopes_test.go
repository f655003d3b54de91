package store

import (
	"context"
	"errors"
	"slices"
	"testing"

	"deling/internal/post"
	"deling/internal/register"
	"deling/internal/token"
)

// The authorisation server's Authorizer loads what access.Scopes decides on, and
// answers a processor without a delegation with token.ErrNotDelegated (Rules AA-13, SK-04).
func TestScopesAuthorizer(t *testing.T) {
	eachEngine(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		const org, processor, stranger = "310000081", "310000082", "310000083"
		lifeConsumer(t, db, org, processor)
		authz := Scopes{DB: db, APIScope: "api", Env: register.EnvTest}
		for _, asker := range []string{org, processor} {
			// Digital post's read scope is the consumer's own, not a processor's (TestPostScopes_DPV01_DPV04).
			want := []string{"api"}
			if asker == org {
				want = append(want, post.ScopeRead)
			}
			if got, err := authz.Scopes(ctx, org, asker); err != nil || !slices.Equal(got, want) {
				t.Fatalf("asked by %s: %v %v", asker, got, err)
			}
		}
		if got, err := authz.Scopes(ctx, org, stranger); !errors.Is(err, token.ErrNotDelegated) || got != nil {
			t.Fatalf("asked by a stranger: %v %v, want token.ErrNotDelegated", got, err)
		}
		if got, err := (Scopes{DB: db, APIScope: "api", Env: register.EnvProd}).Scopes(ctx, org, org); err != nil || !slices.Equal(got, []string{post.ScopeRead}) {
			t.Fatalf("in prod without a grant there: %v %v", got, err)
		}
		if got, err := authz.Scopes(ctx, "310000089", "310000089"); err != nil || got != nil {
			t.Fatalf("not a consumer: %v %v", got, err)
		}
	})
}
