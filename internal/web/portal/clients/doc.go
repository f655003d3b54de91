// Package clients is the portal's page for API clients (issue 16, item 5), as
// Maskinporten's self-service has it: a developer or administrator of an
// organisation with access registers a client by its public key (a JWK) or
// its enterprise certificate, sees the client id to put in its assertions,
// and revokes a client. The private key never leaves the organisation.
//
// It is a feature of the portal (site.Feature): New takes the site; Routes
// and the templates in templates/ are mounted by the portal's route table.
package clients
