package web

// noticeRoutes: driftsmeldinger as a page, an Atom feed and e-mail (issue 5, item 6).
func (s *Server) noticeRoutes() []route { return nil }
