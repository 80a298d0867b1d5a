package web

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
)

//go:embed templates
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// viewNames is every view the handlers render; parseViews fails when one
// has no file, so a missing template stops the start, not a request.
var viewNames = []string{
	"home", "zone", "use", "join", "vendors", "scores", "news_list", "news_show", "text", "error",
	"signup", "signup_done", "confirm", "login", "reset_request", "reset_done", "reset_form",
	"invite_accept", "servers", "server", "account", "account_deleted", "vendor_request",
	"admin_monitors", "monitor_token", "monitors", "admin_audit", "admin_vendors", "admin_users", "admin_servers",
}

// views holds one parsed template set per view: the common layout and
// partials plus that view. Parsed once at start; executing is safe from
// many goroutines.
type views struct{ set map[string]*template.Template }

func parseViews() (*views, error) {
	common, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/common/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: parse common templates: %w", err)
	}
	v := &views{set: make(map[string]*template.Template)}
	files, err := fs.Glob(templateFS, "templates/views/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: list views: %w", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		t, err := template.Must(common.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return nil, fmt.Errorf("web: parse view %s: %w", name, err)
		}
		v.set[name] = t
	}
	for _, n := range viewNames {
		if v.set[n] == nil {
			return nil, fmt.Errorf("web: view %q has no template", n)
		}
	}
	return v, nil
}

// Page is what the layout needs; every view's page struct embeds it.
type Page struct {
	Site     string
	Title    string
	PoolZone string
	// User is the logged-in user on manage pages; public pages leave it nil
	// (they never read the session cookie).
	User *store.User
	// Section marks the current navigation entry.
	Section string
	// Notice is a short confirmation shown at the top ("Server added").
	Notice string
}

// page fills the common fields.
func (s *Server) page(title, section string, u *store.User) Page {
	return Page{Site: s.cfg.SiteName, Title: title, PoolZone: s.cfg.PoolZone, User: u, Section: section}
}

// render executes a view into a buffer, so a failing template yields a
// clean 500 instead of half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, view string, data any) {
	t := s.views.set[view]
	if t == nil {
		s.serverError(w, r, fmt.Errorf("web: no view %q", view))
		return
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		s.serverError(w, r, fmt.Errorf("web: render %s: %w", view, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

type errorPage struct {
	Page
	Status  int
	Message string
}

// serverError logs err and answers a plain 500 page without the detail.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("web: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong on our side. Please try again later.")
}

// errorPage answers status with a short message for people.
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	p := errorPage{Page: s.page(http.StatusText(status), "", nil), Status: status, Message: msg}
	t := s.views.set["error"]
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		http.Error(w, msg, status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// storeFailed answers a failed store call, 404 for store.ErrNotFound and
// 500 otherwise, and reports whether err was one.
func (s *Server) storeFailed(w http.ResponseWriter, r *http.Request, err error) bool {
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrNotFound):
		s.notFound(w, r)
	default:
		s.serverError(w, r, err)
	}
	return true
}

func (s *Server) notFound(w http.ResponseWriter, r *http.Request) {
	s.errorPage(w, r, http.StatusNotFound, "There is no page here.")
}

// securityHeaders is the one place response security headers are set. The
// policy allows no scripts and only same-origin styles; the SVG graphs use
// presentation attributes, which CSP does not restrict.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

// funcs are the template helpers: formatting only, no data access.
var funcs = template.FuncMap{
	"ms":    func(seconds float64) float64 { return seconds * 1000 },
	"score": func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) },
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "never"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"stamp": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") },
	"day": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02")
	},
	"netspeed": netspeedText,
	"pct": func(v float64) string {
		switch {
		case v <= 0:
			return "0%"
		case v < 0.001:
			return "<0.1%"
		}
		return strconv.FormatFloat(math.Round(v*1000)/10, 'f', -1, 64) + "%"
	},
	"zoneTitle": zoneTitle,
	"offsetMS":  func(v float64) float64 { return v * 1000 },
}

// netspeedText prints kbit/s as people read it.
func netspeedText(kbit int64) string {
	switch {
	case kbit == 0:
		return "monitoring only"
	case kbit >= 1000000 && kbit%1000000 == 0:
		return strconv.FormatInt(kbit/1000000, 10) + " Gbit/s"
	case kbit >= 1000:
		return strconv.FormatFloat(float64(kbit)/1000, 'f', -1, 64) + " Mbit/s"
	}
	return strconv.FormatInt(kbit, 10) + " kbit/s"
}
