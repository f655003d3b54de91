// Package register holds the data of the employer/employee register that deling
// shares: persons (as far as the register needs them), organisations as in
// Enhetsregisteret, and arbeidsforhold in the shape of Aa-registeret's v2 model.
//
// It is the domain only: types with their JSON wire names, the embedded
// kodeverk, validation of every record on the way in, the status of an
// arbeidsforhold at a date, query criteria, and a deterministic synthetic
// population. It does not store anything (see package store) and does not
// decide who may see what (see package access).
package register
