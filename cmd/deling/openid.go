package main

import (
	"flag"

	"deling/internal/web/portal/openid"
)

// Sign-in with OpenID Connect (issue 16, item 6; docs/SIGNIN.md): the
// issuers and client ids by flag or environment, the client secrets from
// the environment only — never a flag (process listings, shell history),
// never logged.
const (
	idportenSecretEnv = "DELING_IDPORTEN_CLIENT_SECRET"
	staffSecretEnv    = "DELING_STAFF_CLIENT_SECRET"
)

// openidOptions are serve's sign-in flags.
type openidOptions struct {
	idportenIssuer, idportenClient string
	staffIssuer, staffClient       string
	staffLabel                     string
}

func (o *openidOptions) bind(fs *flag.FlagSet) {
	fs.StringVar(&o.idportenIssuer, "idporten-issuer", "", "ID-porten's issuer URL: persons sign in with ID-porten (or $DELING_IDPORTEN_ISSUER; the secret is $"+idportenSecretEnv+")")
	fs.StringVar(&o.idportenClient, "idporten-client-id", "", "deling's client id at ID-porten (or $DELING_IDPORTEN_CLIENT_ID)")
	fs.StringVar(&o.staffIssuer, "staff-issuer", "", "issuer URL of the register staff's OpenID Connect provider, e.g. Entra ID (or $DELING_STAFF_ISSUER; the secret is $"+staffSecretEnv+")")
	fs.StringVar(&o.staffClient, "staff-client-id", "", "deling's client id at the staff's provider (or $DELING_STAFF_CLIENT_ID)")
	fs.StringVar(&o.staffLabel, "staff-label", "Entra ID", `the staff's provider on the sign-in button ("Logg inn med LABEL")`)
}

// config is the sign-in configuration: each flag, else its variable; the secrets from the environment.
func (o *openidOptions) config(getenv func(string) string) (openid.Config, error) {
	or := func(flag, env string) string {
		if flag != "" {
			return flag
		}
		return getenv(env)
	}
	c := openid.Config{
		IDPorten: openid.ProviderConfig{Issuer: or(o.idportenIssuer, "DELING_IDPORTEN_ISSUER"),
			ClientID: or(o.idportenClient, "DELING_IDPORTEN_CLIENT_ID"), ClientSecret: getenv(idportenSecretEnv)},
		Staff: openid.ProviderConfig{Issuer: or(o.staffIssuer, "DELING_STAFF_ISSUER"),
			ClientID: or(o.staffClient, "DELING_STAFF_CLIENT_ID"), ClientSecret: getenv(staffSecretEnv), Label: o.staffLabel},
	}
	return c, c.Check()
}
