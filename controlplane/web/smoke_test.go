package web

import (
	"net/http"
	"testing"
)

func TestSmoke(t *testing.T) {
	s := newSite(t, nil)
	c := s.client()
	for _, p := range []string{"/", "/use", "/join", "/vendors", "/news", "/terms", "/privacy", "/zone/@", "/zone/europe", "/zone/de", "/login", "/signup", "/reset"} {
		c.get(p).want(t, http.StatusOK)
	}
	cl, _ := s.signUp("a@example.test")
	cl.get("/manage").want(t, http.StatusOK, "My servers")
}
