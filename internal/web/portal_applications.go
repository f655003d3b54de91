package web

// applicationRoutes: søknader, case handling, vedtak, grants (issue 5, items 2–3).
func (s *Server) applicationRoutes() []route { return nil }
