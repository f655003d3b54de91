// Package governance is how access is governed: the portal's people and their
// roles, applications (søknad) and decisions (vedtak), terms and their
// acceptance, notices, contact persons and consents. It is pure: no SQL, no
// HTTP; internal/store keeps its state and internal/web shows it.
package governance
