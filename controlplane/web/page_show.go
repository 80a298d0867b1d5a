package web

import (
	"html/template"
	"net/http"

	"github.com/ntppool-ng/ntppool/controlplane/census"
)

// infoPage is a page of text that only needs the pool's names.
type infoPage struct {
	Page
	Names []string
}

// showUse explains how to point clients at the pool, with snippets for
// chrony, ntpd/ntpsec, systemd-timesyncd and Windows.
func (s *Server) showUse(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "use", infoPage{Page: s.page("How to use the pool", "use", nil), Names: s.dnsNames(census.Global)})
}

// showJoin explains what a server needs and how to add it.
func (s *Server) showJoin(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "join", infoPage{Page: s.page("Join the pool", "join", nil), Names: s.dnsNames(census.Global)})
}

// showVendors explains vendor zones and how to ask for one.
func (s *Server) showVendors(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "vendors", infoPage{Page: s.page("Vendor zones", "vendors", nil), Names: s.dnsNames(census.Global)})
}

type textPage struct {
	Page
	Body template.HTML
}

// showTerms is the terms of service: the operator's file when configured,
// else the built-in text.
func (s *Server) showTerms(w http.ResponseWriter, r *http.Request) {
	s.showText(w, r, "Terms of service", s.cfg.TermsFile, "templates/text/terms.md")
}

// showPrivacy is the privacy statement, replaceable like the terms.
func (s *Server) showPrivacy(w http.ResponseWriter, r *http.Request) {
	s.showText(w, r, "Privacy", s.cfg.PrivacyFile, "templates/text/privacy.md")
}

func (s *Server) showText(w http.ResponseWriter, r *http.Request, title, file, builtin string) {
	var body template.HTML
	var err error
	if file != "" {
		body, err = markdownFile(file)
	} else {
		body, err = builtinMarkdown(builtin)
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "text", textPage{Page: s.page(title, "", nil), Body: body})
}
