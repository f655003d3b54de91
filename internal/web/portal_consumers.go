package web

// consumerRoutes: contacts, users and their review, suspension, termination, Enhetsregisteret (issue 5, item 5).
func (s *Server) consumerRoutes() []route { return nil }
