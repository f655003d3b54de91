package pgtest

// Dir exposes the cluster directory to tests.
func (s *Server) Dir() string { return s.dir }
