package machineapi

import (
	"deling/internal/access"
	"deling/internal/web/channel"
	"net/http"
)

// consentGate is ApplyConsent for an API call; it answers the call itself when
// the outcome is a denial or a failure (channel.ConsentAnswered).
func (c *call) consentGate(d access.Decision, kind access.QueryKind, history bool, person string) (access.Decision, channel.ConsentOutcome) {
	d2, oc, err := c.s.ApplyConsent(c.r.Context(), access.Request{
		Consumer: c.claims.Consumer, Processor: c.claims.Supplier,
		Channel: access.ChannelAPI, Env: c.s.env, Kind: kind, History: history,
	}, c.in, d, person)
	switch {
	case err != nil:
		c.internal(err)
		return d, channel.ConsentAnswered
	case oc == channel.ConsentNotKeyed:
		c.fail(http.StatusForbidden, "", string(access.DenyQueryKind), channel.ConsentNotKeyedText)
		return d, channel.ConsentAnswered
	}
	return d2, oc
}
