package web

import "net/http"

type signupPage struct {
	Page
	Email  string
	Errors fieldErrors
}

// showSignup is the sign-up form.
func (s *Server) showSignup(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "signup", signupPage{Page: s.page("Sign up", "manage", nil)})
}
