package store

import (
	"context"
	"errors"
	"fmt"

	"deling/internal/access"
	"deling/internal/ident"
	"deling/internal/post"
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
	if err != nil || asker != consumer || in.Consumer == nil {
		return scopes, err
	}
	switch in.Consumer.Status {
	case access.Active:
		more, err := s.postScopes(ctx, consumer)
		return append(scopes, more...), err
	case access.Suspended:
		// Issue 14 item 5, Rule DPV-03: a suspended organisation still reads
		// the post sent to it — its suspension letter first of all — so it
		// keeps the recipient's read scope (what it reads is Post/Arkiv's
		// to decide), and only that: no data, no sending. (A consumer whose
		// grants the register suspended stays active and keeps it anyway.)
		return []string{post.ScopeRead}, nil
	}
	return scopes, nil
}

// postScopes are an active consumer's own digital post scopes: every
// organisation may read its post (Post/Arkiv decides what, Rule DPV-03);
// writing needs a registration as an eligible sender that has not ended
// (Rule DPV-01) or a sender's delegation to it (Rule DPV-04).
func (s Scopes) postScopes(ctx context.Context, consumer string) ([]string, error) {
	out := []string{post.ScopeRead}
	now := s.DB.now()
	if snd, err := s.DB.PostSender(ctx, ident.Orgnr(consumer)); err == nil && (snd.LeftAt == nil || now.Before(*snd.LeftAt)) {
		return append(out, post.ScopeWrite), nil
	} else if !errors.Is(err, ErrNotFound) && err != nil {
		return nil, err
	}
	dels, err := s.DB.SenderDelegations(ctx, ident.Orgnr(consumer))
	if err != nil {
		return nil, err
	}
	for _, d := range dels {
		if d.InForce(now) {
			return append(out, post.ScopeWrite), nil
		}
	}
	return out, nil
}
