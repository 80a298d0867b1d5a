package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/mail"
	"github.com/ntppool-ng/ntppool/controlplane/mail/mailtest"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/netclass"
)

// site is a running web site over a real SQLite store and a real SMTP
// server.
type site struct {
	t    *testing.T
	web  *Server
	st   *store.Store
	smtp *mailtest.Server
	ts   *httptest.Server
	// changes counts calls of Deps.Changed.
	changes atomic.Int64
}

// testAdder registers servers with the parts of the pool's rules that need
// no network: a public (or, with allowPrivate, any) unicast address not yet
// registered. The registry package does the NTP check in production.
type testAdder struct {
	st           *store.Store
	allowPrivate bool
}

type testFieldError struct{ field, msg string }

func (e testFieldError) Error() string { return e.msg }
func (e testFieldError) Field() string { return e.field }

func (a testAdder) AddServer(ctx context.Context, accountID int64, addr, country string) (int64, error) {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return 0, testFieldError{"ip", "Enter an IPv4 or IPv6 address."}
	}
	if err := netclass.Check(ip); err != nil && !a.allowPrivate {
		return 0, testFieldError{"ip", "This address is not a public unicast address."}
	}
	id, err := a.st.CreateServer(ctx, store.Server{IP: ip, AccountID: accountID, Netspeed: 10000, Country: "de", CountryOverride: country, InPool: true})
	if errors.Is(err, store.ErrConflict) {
		return 0, testFieldError{"ip", "This address is already registered."}
	}
	return id, err
}

func newSite(t *testing.T, mod func(*Config)) *site {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	smtp := mailtest.Start(t)
	s := &site{t: t, st: st, smtp: smtp}
	s.ts = httptest.NewUnstartedServer(nil)
	cfg := Config{SiteName: "Test Pool", BaseURL: "http://" + s.ts.Listener.Addr().String(), PoolZone: "pool.ntp.test",
		Mail: mail.Config{Host: smtp.Host(), Port: smtp.Port(), From: "pool@example.test"}}
	if mod != nil {
		mod(&cfg)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	w, err := New(cfg, Deps{Store: st, Registry: testAdder{st: st}, Logger: log, Changed: func() { s.changes.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	s.web = w
	t.Cleanup(w.bg.Wait) // before the store closes
	s.ts.Config.Handler = w.Handler()
	s.ts.Start()
	t.Cleanup(s.ts.Close)
	return s
}

// client is a browser-like client with its own cookie jar that does not
// follow redirects, so tests see them.
type client struct {
	s   *site
	hc  *http.Client
	jar *cookiejar.Jar
}

func (s *site) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{s: s, jar: jar, hc: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// resp is a read response.
type resp struct {
	*http.Response
	body string
}

func (c *client) do(req *http.Request) resp {
	c.s.t.Helper()
	r, err := c.hc.Do(req)
	if err != nil {
		c.s.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return resp{r, string(b)}
}

func (c *client) get(path string) resp {
	req, _ := http.NewRequest(http.MethodGet, c.s.ts.URL+path, nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values) resp {
	req, _ := http.NewRequest(http.MethodPost, c.s.ts.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// What a browser sends for a form on the same site.
	req.Header.Set("Origin", c.s.ts.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return c.do(req)
}

func (r resp) want(t *testing.T, status int, contains ...string) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.body)
	}
	for _, c := range contains {
		if !strings.Contains(r.body, c) {
			t.Fatalf("%s %s: body lacks %q\n%s", r.Request.Method, r.Request.URL.Path, c, r.body)
		}
	}
}

var linkRE = regexp.MustCompile(`https?://[^\s]+`)

// mailLink waits for the next message to addr and returns the first link
// in it, as a path on the site.
func (s *site) mailLink(addr, subjectPart string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, ok := s.smtp.WaitFor(ctx, func(m mailtest.Message) bool {
		return len(m.To) > 0 && m.To[0] == addr && strings.Contains(m.Subject, subjectPart)
	})
	if !ok {
		s.t.Fatalf("no mail to %s about %q", addr, subjectPart)
	}
	link := linkRE.FindString(m.Body)
	if link == "" {
		s.t.Fatalf("mail to %s has no link:\n%s", addr, m.Body)
	}
	u, err := url.Parse(link)
	if err != nil {
		s.t.Fatal(err)
	}
	return u.Path
}

// signUp creates, confirms and logs in a user; it returns the logged-in
// client and the user.
func (s *site) signUp(email string) (*client, store.User) {
	s.t.Helper()
	c := s.client()
	c.post("/signup", url.Values{"email": {email}, "password": {"correct horse battery"}}).want(s.t, http.StatusOK, "Check your email")
	c.get(s.mailLink(email, "Confirm")).want(s.t, http.StatusOK, "Address confirmed")
	r := c.post("/login", url.Values{"email": {email}, "password": {"correct horse battery"}})
	if r.StatusCode != http.StatusSeeOther {
		s.t.Fatalf("log-in: status %d\n%s", r.StatusCode, r.body)
	}
	u, err := s.st.UserByEmail(context.Background(), email)
	if err != nil {
		s.t.Fatal(err)
	}
	return c, u
}

func strconvI(v int64) string { return strconv.FormatInt(v, 10) }

func httptestRequest(target string) *http.Request {
	return httptest.NewRequest(http.MethodGet, target, nil)
}

// admin signs up a user, makes it an admin and returns its client.
func (s *site) admin(email string) *client {
	s.t.Helper()
	c, u := s.signUp(email)
	if err := s.st.SetUserAdmin(context.Background(), u.ID, true); err != nil {
		s.t.Fatal(err)
	}
	return c
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
