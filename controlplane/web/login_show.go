package web

import "net/http"

type loginPage struct {
	Page
	Email  string
	Next   string
	Error  string
	Errors fieldErrors
}

// loginNotices are the confirmations other pages send here by ?done=.
var loginNotices = map[string]string{
	"reset":  "Your password was changed. Please log in.",
	"joined": "You joined the account. Please log in.",
}

// showLogin is the log-in form. It sets no cookie.
func (s *Server) showLogin(w http.ResponseWriter, r *http.Request) {
	p := loginPage{Page: s.page("Log in", "manage", nil), Next: localPath(r.URL.Query().Get("next"), "")}
	p.Notice = loginNotices[r.URL.Query().Get("done")]
	s.render(w, r, http.StatusOK, "login", p)
}
