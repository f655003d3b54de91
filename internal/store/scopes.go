package store

import (
	"context"
	"errors"
	"fmt"

	"deling/internal/access"
	"deling/internal/register"
	"deling/internal/token"
)

// Scopes is the authorisation server's Authorizer (authserver.Authorizer).
// It only loads: the consumer, its grants and its delegations to the asker, fresh for each request (so a
// suspension or an ending takes effect at once); access.Scopes decides
// (Rules AA-13, SK-04).
type Scopes struct {
	DB       *DB
	APIScope string
	Env      register.Env
}

// Scopes implements authserver.Authorizer; cmd/deling wires it in.
func (s Scopes) Scopes(ctx context.Context, consumer, asker string) ([]string, error) {
	in, err := s.DB.AccessInputs(ctx, consumer, asker)
	if err != nil {
		return nil, err
	}
	scopes, err := access.Scopes(in, consumer, asker, s.Env, s.APIScope, s.DB.now())
	if errors.Is(err, access.ErrNotDelegated) {
		return nil, fmt.Errorf("consumer %s, processor %s: %w", consumer, asker, token.ErrNotDelegated)
	}
	return scopes, err
}
