package access

import (
	"errors"
	"slices"
	"time"

	"deling/internal/register"
)

// ErrNotDelegated is Scopes' answer to a data processor asking for a consumer
// that has no delegation to it in force (Rules AA-13, SK-04). The token
// server refuses the request as unauthorised rather than as a client error.
var ErrNotDelegated = errors.New("consumer has not delegated to the asking organisation")

// Scopes decides which scopes a token for consumer may carry when asker asks
// for it at now: asker is the consumer itself, or a data processor acting for
// it, who gets the consumer's scopes only under a delegation in force (Rules
// AA-13, SK-04), else ErrNotDelegated. An active consumer with a grant in
// force for the API or for extracts (ordered through /api/v2/uttrekk) in env
// gets apiScope; any other consumer gets none. The grant decides the rest at
// each request (Decide), so a scope is a door, not a permit. in holds the
// consumer, its grants and its delegations to asker. It is pure.
func Scopes(in Inputs, consumer, asker string, env register.Env, apiScope string, now time.Time) ([]string, error) {
	if in.Consumer == nil || in.Consumer.Status != Active {
		return nil, nil
	}
	if asker != consumer && !slices.ContainsFunc(in.Delegations, func(d Delegation) bool {
		return d.Consumer == consumer && d.Processor == asker && d.ActiveAt(now)
	}) {
		return nil, ErrNotDelegated
	}
	for _, g := range in.Grants {
		if g.Consumer == consumer && (g.Channel == ChannelAPI || g.Channel == ChannelExtract) && g.Env == env && g.ActiveAt(now) {
			return []string{apiScope}, nil
		}
	}
	return nil, nil
}
