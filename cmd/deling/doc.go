// Command deling is the whole platform in one binary: the register API, the
// token server, the web UI and the background jobs (serve), and the tools to
// load the register (seed, import), manage who may see what (consumer,
// client, grant, delegation, user), check the lookup log (audit) and witness
// another log (witness), and measure (bench).
//
// It is wiring only: each verb has a file with its flags, and builds what it
// needs from the internal packages; run(ctx, args, getenv, stdin, stdout,
// stderr) is the whole command, tested end to end. At about 4,000 lines of
// non-test code it is over the house limit of ~3,000: one file per verb
// (fifteen verbs), none over 500 lines, and the rules they apply live in the
// internal packages; a verb that grows logic of its own moves it there, as
// the benchmark did (internal/bench).
package main
