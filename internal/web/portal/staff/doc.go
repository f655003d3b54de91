// Package staff is the portal's page where the register's forvalter manages
// the register's staff accounts (issue 16, item 5): lists them, makes one
// with a one-time password shown once (as "deling user add" does), sets an
// account's roles (saksbehandler, personvernombud, forvalter), gives it a new
// one-time password, deactivates an account after a confirmation (its
// sessions end at their next request) and reactivates it. A one-time
// password is changed by its owner at the next sign-in (site.PasswordPath).
// Every change is an event in the log; the register never has zero
// forvalters, and no organisation loses its last administrator (the store
// refuses, store.ErrLastManager). Only a forvalter reaches it (deny by default).
//
// It is a feature of the portal (site.Feature): New takes the site; Routes
// and the templates in templates/ are mounted by the portal's route table.
package staff
