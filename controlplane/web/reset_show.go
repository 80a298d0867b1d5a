package web

import "net/http"

// showResetForm asks for the new password; the token is used only when the
// form is sent.
func (s *Server) showResetForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "reset_form", resetPage{Page: s.page("Choose a new password", "manage", nil), Token: r.PathValue("token")})
}
