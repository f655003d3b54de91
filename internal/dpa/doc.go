// Package dpa is the register of data processing agreements
// (databehandleravtaler, GDPR art. 28) that delegations to data processors
// stand on (Rules SK-04, DPA-01 … DPA-11; seed 001 is the template).
//
// What it is: the agreement and its versions (the main text's facts and
// annexes 1–3, Rule DPA-01) with a content hash over a canonical encoding,
// so that each side signs exactly the version shown; the status table and
// who may take each step, with separation of parties (nobody acts for both
// controller and processor); per-field validation in Norwegian (Bokmål);
// whether an agreement covers a delegation (Rule SK-04) and which
// delegations lack one; sub-processors proposed by the processor and
// approved in writing by the controller, and annex 3 as of any date (Rule
// DPA-05); transfers outside the EU/EEA on the controller's documented
// instruction, checked against the country list applications use (Rule
// DPA-06, governance.Countries); the processor's breach report to the
// controller and its 24-hour clock (Rule DPA-07, incident.ProcessorDeadline);
// authority requests and audit report files (Rule DPA-09); the stop order
// (Rule DPA-11), the end, the deletion deadline, its reminders and the
// deletion certificate (Rule DPA-10); and the readable document of a
// version, rendered deterministically in the template's order.
//
// What it is not: it holds no state and does no I/O — no SQL, no HTTP, no
// clock of its own (every function that depends on time takes it).
// internal/store keeps agreements, versions, sub-processors and files, ends
// or suspends the delegations in the same transaction as a stop or an end,
// and appends the document's SHA-256 to the lookup log; internal/web shows
// the pages. It does not decide lookups (access.Decide does), nor handle the
// controller's own breach case (internal/incident does), nor judge whether a
// transfer is lawful beyond the documented instruction and the register's
// own country list (Rule AA-09).
package dpa
