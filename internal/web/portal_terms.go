package web

// termsRoutes: bruksvilkår and delingsvilkår, acceptance, objections (issue 5, item 4).
func (s *Server) termsRoutes() []route { return nil }
