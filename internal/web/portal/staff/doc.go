// Package staff is the portal's page where the register's forvalter manages
// the register's staff accounts (issue 16, item 5): lists them, makes one
// with an initial password shown once (as "deling user add" does), sets an
// account's roles (saksbehandler, personvernombud, forvalter) and deactivates
// an account, whose sessions end at its next request. Every change is an
// event in the log; the register never has zero forvalters (the store
// refuses, store.ErrLastManager). Only a forvalter reaches it (deny by default).
//
// It is a feature of the portal (site.Feature): New takes the site; Routes
// and the templates in templates/ are mounted by the portal's route table.
package staff
