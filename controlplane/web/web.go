// Package web serves the pool's web site from the control plane: the public
// pages (home, zones, how to use and join, score pages and their JSON and
// CSV forms, news, terms, privacy) and the manage site (sign-up, log-in,
// accounts and their users, servers, vendor zones, admin pages).
//
// Pages are server-rendered html/template views with server-drawn SVG
// graphs (package graph); they need no JavaScript. Public pages never set
// a cookie: only log-in does, for the manage site. Every state-changing
// form is a POST guarded by http.CrossOriginProtection, and every handler
// that touches a server checks that the logged-in account owns it, as the
// store query does in its WHERE.
//
// # Usage
//
//	w, err := web.New(web.Config{SiteName: "NTP Pool", BaseURL: "http://127.0.0.1:8080",
//	    PoolZone: "pool.ntp.test"}, web.Deps{Store: st, Registry: reg, Logger: log})
//	mux.Handle("/", w.Handler())
//	defer w.Close()
//
// The site serves HTTP only: the periodic work (alert emails, automatic
// removal, zone counts, expiry of sessions) is the leader's (package
// leader and the jobs registered in the control plane's app.go).
package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/ntppool-ng/ntppool/controlplane/mail"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// Config is the web site's configuration. Zero values take the defaults
// documented on each field.
type Config struct {
	SiteName string // "NTP Pool"
	// BaseURL is the site's public address, used in emailed links
	// ("http://127.0.0.1:8080").
	BaseURL string
	// PoolZone is the DNS zone clients use ("pool.ntp.test").
	PoolZone string
	// NewsDir holds news as Markdown files named YYYY-MM-DD-slug.md; empty
	// means no news.
	NewsDir string
	// TermsFile and PrivacyFile, when set, replace the built-in texts
	// (Markdown).
	TermsFile   string
	PrivacyFile string
	// Mail is the SMTP relay; an empty host writes messages to the log.
	Mail mail.Config
	// SecureCookies marks the session cookie Secure (HTTPS only). Off for
	// a development site on http://127.0.0.1.
	SecureCookies bool
	// AllowPrivate accepts private and loopback monitor addresses (local
	// pools only).
	AllowPrivate bool

	SessionTTL time.Duration // 30 days
	ConfirmTTL time.Duration // confirmation links: 72 h
	ResetTTL   time.Duration // password reset links: 1 h
	InviteTTL  time.Duration // invitations: 7 days
	CountsTTL  time.Duration // home and zone page counts are at most this old: 30 s

	// AuthRate and AuthBurst limit log-in, sign-up, reset and invitation
	// attempts, and apart from them /verify/ requests, per client (an IPv4
	// address or an IPv6 /64) and per email address mailed: 10 a minute,
	// burst 10.
	AuthRate  rate.Limit
	AuthBurst int
	// AccountClientRate and AccountClientBurst limit password guesses at
	// one account from one client: 1 a minute, burst 5.
	AccountClientRate  rate.Limit
	AccountClientBurst int
	// AccountRate and AccountBurst are an account's budget of password
	// guesses from clients that never logged in to it: 6 a minute, burst
	// 50. One client (limited by the rule above to less than this refill)
	// cannot empty it; when many clients do, clients that logged in to the
	// account in the last PassedTTL still get through, so the account's
	// owner is not locked out.
	AccountRate  rate.Limit
	AccountBurst int
	PassedTTL    time.Duration // 30 days
	// ScoreDataRate and ScoreDataBurst limit score JSON and CSV requests
	// for more than 100 rows, per client: one every 3 s, burst 20.
	ScoreDataRate  rate.Limit
	ScoreDataBurst int
	// MaxLimitEntries bounds the limiter's buckets: 100,000 (~10 MB).
	MaxLimitEntries int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client (the rightmost hop not in these ranges). Empty: the TCP
	// peer is the client and X-Forwarded-For is ignored.
	TrustedProxies []netip.Prefix
	// HSTS sends Strict-Transport-Security on every answer: set it when the
	// site is served over TLS (directly or by a proxy).
	HSTS bool

	// Score decides which servers count as active (in the DNS), as the
	// publisher does; zero means score.DefaultConfig().
	Score score.Config
}

func (c *Config) defaults() error {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if c.SiteName == "" {
		c.SiteName = "NTP Pool"
	}
	if c.BaseURL == "" {
		c.BaseURL = "http://127.0.0.1:8080"
	}
	if _, err := url.Parse(c.BaseURL); err != nil {
		return fmt.Errorf("web: base URL: %w", err)
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	if c.PoolZone == "" {
		c.PoolZone = "pool.ntp.test"
	}
	def(&c.SessionTTL, 30*24*time.Hour)
	def(&c.ConfirmTTL, 72*time.Hour)
	def(&c.ResetTTL, time.Hour)
	def(&c.InviteTTL, 7*24*time.Hour)
	def(&c.CountsTTL, 30*time.Second)
	if c.AuthRate <= 0 {
		c.AuthRate = rate.Every(6 * time.Second)
	}
	if c.AuthBurst <= 0 {
		c.AuthBurst = 10
	}
	if c.AccountClientRate <= 0 {
		c.AccountClientRate = rate.Every(time.Minute)
	}
	if c.AccountClientBurst <= 0 {
		c.AccountClientBurst = 5
	}
	if c.AccountRate <= 0 {
		c.AccountRate = rate.Every(10 * time.Second)
	}
	if c.AccountBurst <= 0 {
		c.AccountBurst = 50
	}
	def(&c.PassedTTL, 30*24*time.Hour)
	if c.ScoreDataRate <= 0 {
		c.ScoreDataRate = rate.Every(3 * time.Second)
	}
	if c.ScoreDataBurst <= 0 {
		c.ScoreDataBurst = 20
	}
	if c.Score == (score.Config{}) {
		c.Score = score.DefaultConfig()
	}
	return nil
}

// Deps are the parts the web site uses.
type Deps struct {
	Store *store.Store
	// Registry adds and changes servers under the pool's rules
	// (controlplane/registry).
	Registry Registry
	Logger   *slog.Logger
	// Mailer overrides the sender built from Config.Mail (tests).
	Mailer mail.Sender
	// Changed, when set, is called after the site changed a server or
	// vendor zone, so the publisher can act at once.
	Changed func()
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Server is the web site.
type Server struct {
	cfg     Config
	st      *store.Store
	reg     Registry
	log     *slog.Logger
	mailer  mail.Sender
	changed func()
	now     func() time.Time

	views  *views
	limits *limiter
	passed *passedSet // (account, client) pairs that logged in
	// bcrypts counts password hashes and comparisons: the costly work that
	// only requests within the limits may cause.
	bcrypts    atomic.Int64
	counts     atomic.Pointer[counts]
	countMu    sync.Mutex  // one first census build at a time
	rebuilding atomic.Bool // a background census rebuild is running
	bg         sync.WaitGroup
	// bgMu orders bg.Add (page requests) against bg.Wait (Close): a
	// WaitGroup must not get an Add while a Wait on a zero count is under way.
	bgMu    sync.Mutex
	mailQ   chan mailJob // work for the mail worker (mail.go)
	mailing atomic.Bool  // the mail worker runs
	news    newsCache
	handler http.Handler
}

// ErrConfig reports a configuration New cannot work with.
var ErrConfig = errors.New("web: bad configuration")

// New checks the configuration, parses every template and builds the
// routes. It fails when a template is missing or broken.
func New(cfg Config, d Deps) (*Server, error) {
	if d.Store == nil || d.Registry == nil {
		return nil, fmt.Errorf("%w: a store and a registry are needed", ErrConfig)
	}
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, st: d.Store, reg: d.Registry, log: d.Logger, mailer: d.Mailer, changed: d.Changed, now: d.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.mailer == nil {
		s.mailer = mail.New(cfg.Mail, s.log)
	}
	if s.changed == nil {
		s.changed = func() {}
	}
	if s.now == nil {
		s.now = time.Now
	}
	v, err := parseViews()
	if err != nil {
		return nil, err
	}
	s.views = v
	s.mailQ = make(chan mailJob, mailQueueSize)
	s.limits = newLimiter(cfg.MaxLimitEntries)
	s.passed = newPassedSet(max(cfg.MaxLimitEntries, defaultMaxBuckets)/4, cfg.PassedTTL)
	s.handler = s.routes()
	return s, nil
}

// Handler is the whole site, to mount at "/".
func (s *Server) Handler() http.Handler { return s.handler }

// Close waits for the background work (a rebuild of the page counts, the
// mail worker), if any runs; call it after the HTTP server has shut down.
func (s *Server) Close() {
	s.bgMu.Lock()
	s.bg.Wait()
	s.bgMu.Unlock()
}

// background runs fn in a goroutine that Close waits for.
func (s *Server) background(fn func()) {
	s.bgMu.Lock()
	s.bg.Add(1)
	s.bgMu.Unlock()
	go func() {
		defer s.bg.Done()
		fn()
	}()
}
