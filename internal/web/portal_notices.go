package web

import "net/http"

// noticeRoutes: driftsmeldinger as a page, an Atom feed and e-mail (issue 5, item 6).
func (s *Server) noticeRoutes() []route { return nil }

// apiHeaders sets headers every answer under a deprecated API version carries:
// Deprecation and Sunset while the old version lives its last months (Rule AA-23).
// It runs on every request, so it must not touch the database each time.
func (s *Server) apiHeaders(w http.ResponseWriter, r *http.Request) {}
