// Package openid is sign-in to the portal with OpenID Connect beside local
// accounts (issue 16, item 6; docs/SIGNIN.md): ID-porten for persons and
// organisations' users, whose pid claim is the fødselsnummer, and Entra ID
// or any OpenID Connect provider for the register's staff. It is a relying
// party with github.com/coreos/go-oidc and golang.org/x/oauth2: the
// authorization code flow with PKCE, state and nonce kept in the session and
// used once, the ID token verified (signature, issuer, audience, expiry),
// acr and amr recorded. Accounts are found by verified claims only
// (store.SignInPerson, store.SignInStaff); a member of staff nobody linked
// is refused, and no staff account is ever made here.
//
// It is a feature of the portal (site.Feature): New takes the site and the
// providers; Routes and the templates in templates/ are mounted by the
// portal's route table, and Buttons are shown on the sign-in page.
package openid
