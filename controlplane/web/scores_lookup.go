package web

import (
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// lookupScores turns the home page's search form (?ip=…) into the score
// page's address.
func (s *Server) lookupScores(w http.ResponseWriter, r *http.Request) {
	ip, err := netip.ParseAddr(strings.TrimSpace(r.URL.Query().Get("ip")))
	if err != nil {
		s.errorPage(w, r, http.StatusBadRequest, "Please enter an IPv4 or IPv6 address.")
		return
	}
	http.Redirect(w, r, "/scores/"+url.PathEscape(ip.Unmap().String()), http.StatusSeeOther)
}
