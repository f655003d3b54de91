package web

// extractRoutes: the extract (uttrekk) API and the consumer's extract page (issue 6, item 2–3).
func (s *Server) extractRoutes() []route { return nil }
