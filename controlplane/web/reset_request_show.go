package web

import "net/http"

type resetPage struct {
	Page
	Email  string
	Token  string
	Errors fieldErrors
}

// showResetRequest asks for the address to send a reset link to.
func (s *Server) showResetRequest(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "reset_request", resetPage{Page: s.page("Reset your password", "manage", nil)})
}
