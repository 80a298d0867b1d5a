package web

import (
	"context"
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
	"github.com/ntppool-ng/ntppool/controlplane/registry"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/ntpserver"
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

// ntpAddrs are loopback addresses with a real NTP server each: the
// healthy ones first, then one that stays silent and one at stratum 9.
var ntpAddrs = []string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6", "127.0.0.7", "127.0.0.8", "127.0.0.9"}

const (
	silentNTP  = "127.0.0.10"
	stratumNTP = "127.0.0.11"
)

// startNTP starts the test's NTP servers on one port and returns it.
func startNTP(t *testing.T) uint16 {
	t.Helper()
	var addrs []netip.Addr
	var cfgs []ntpserver.Config
	for _, a := range ntpAddrs {
		addrs, cfgs = append(addrs, netip.MustParseAddr(a)), append(cfgs, ntpserver.Config{})
	}
	addrs = append(addrs, netip.MustParseAddr(silentNTP), netip.MustParseAddr(stratumNTP))
	cfgs = append(cfgs, ntpserver.Config{Silent: true}, ntpserver.Config{Stratum: 9})
	srvs, err := ntpserver.ListenSamePort(addrs, cfgs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, s := range srvs {
			s.Close()
		}
	})
	return srvs[0].Addr().Port()
}

// siteOptions vary a test site.
type siteOptions struct {
	// strict refuses non-public addresses, as production does; otherwise
	// the registry admits the loopback NTP servers (--allow-private).
	strict bool
	// mailer replaces the test SMTP relay; log receives the site's log.
	mailer mail.Sender
	log    io.Writer
	// noSMTP leaves the relay unset: mail is logged as not sent.
	noSMTP bool
	// resolver answers hostname lookups; nil uses the system's.
	resolver registry.Resolver
}

func newSite(t *testing.T, mod func(*Config)) *site {
	t.Helper()
	return newSiteWith(t, mod, siteOptions{})
}

func newSiteWith(t *testing.T, mod func(*Config), opt siteOptions) *site {
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
	if opt.noSMTP {
		cfg.Mail = mail.Config{}
	}
	if mod != nil {
		mod(&cfg)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	if opt.log != nil {
		log = slog.New(slog.NewTextHandler(opt.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	reg := registry.New(st, registry.Config{AllowPrivate: !opt.strict, NTPPort: startNTP(t), CheckTimeout: 300 * time.Millisecond,
		Resolver: opt.resolver, OnChange: func(int64) { s.changes.Add(1) }})
	w, err := New(cfg, Deps{Store: st, Registry: reg, Logger: log, Mailer: opt.mailer, Changed: func() { s.changes.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	s.web = w
	t.Cleanup(w.Close) // before the store closes
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
	// xff, when set, is sent as X-Forwarded-For, as a proxy in front of
	// the site would.
	xff string
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
	if c.xff != "" {
		req.Header.Set("X-Forwarded-For", c.xff)
	}
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
