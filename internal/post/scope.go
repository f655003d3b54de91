package post

// The API's scopes, Altinn's names: a sender's and a recipient's. The
// token server grants them (store.Scopes); web/correspondence requires them.
const (
	ScopeWrite = "altinn:correspondence.write"
	ScopeRead  = "altinn:correspondence.read"
)
