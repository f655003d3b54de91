package extract

// AfterCommit lets the external tests stop a runner after a batch: the
// function it points to is called after batch n is committed.
func AfterCommit(r *Runner) *func(n int) { return &r.afterCommit }
