package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/oschwald/geoip2-golang/v2"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ntppool-ng/ntppool/controlplane/alert"
	"github.com/ntppool-ng/ntppool/controlplane/api"
	"github.com/ntppool-ng/ntppool/controlplane/assign"
	"github.com/ntppool-ng/ntppool/controlplane/census"
	"github.com/ntppool-ng/ntppool/controlplane/leader"
	"github.com/ntppool-ng/ntppool/controlplane/mail"
	"github.com/ntppool-ng/ntppool/controlplane/publish"
	"github.com/ntppool-ng/ntppool/controlplane/registry"
	"github.com/ntppool-ng/ntppool/controlplane/scheduler"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// appConfig is everything the running control plane needs, whichever
// command built it. Every interval is here, so dev runs on a fast clock.
type appConfig struct {
	Listen       string
	Prefix       string
	Election     string
	LeaseTTL     time.Duration
	TicketKey    []byte // nil: from the database
	AllowPrivate bool
	GeoIPPath    string
	NTPPort      uint16
	Retention    time.Duration
	BaseURL      string
	PoolZone     string
	SecureCookie bool
	SiteName     string
	NewsDir      string
	TermsFile    string
	PrivacyFile  string
	Mail         mail.Config // empty Host: messages go to the log
	// TLSCert and TLSKey, when set, serve HTTPS (reloaded when the files
	// change) and send HSTS.
	TLSCert, TLSKey string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the client, for the web site and the monitor API alike.
	TrustedProxies []netip.Prefix

	Score  score.Config
	Assign assign.Config
	Alert  alert.Config // alert emails and automatic removal (leader jobs)
	// ZoneCountsEvery is how often the daily zone counts are taken; 0: 4 h.
	ZoneCountsEvery time.Duration
	API             api.Config // probe settings; the rest is filled in here
	Tick            time.Duration
	Recheck         time.Duration
	Debounce        time.Duration
	CheckTime       time.Duration // registration NTP check timeout
}

// app is the wired control plane.
type app struct {
	cfg   appConfig
	log   *slog.Logger
	st    *store.Store
	lead  *leader.Leader // runs the leader-only jobs (leaderJobs)
	pub   *publish.Publisher
	sched *scheduler.Scheduler
	reg   *registry.Registry
	api   *api.Server
	geo   *geoip2.Reader
	mux   *http.ServeMux
	web   webSite       // nil until mountWeb
	certs *certReloader // nil: plain HTTP
}

// webSite is what the control plane needs from the web UI: it serves
// HTTP only.
type webSite interface {
	Handler() http.Handler
	Close()
}

const ticketKeySetting = "monitor_ticket_key"

// newApp wires the parts over an open store and etcd client.
func newApp(ctx context.Context, cfg appConfig, st *store.Store, cli *clientv3.Client, log *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, log: log, st: st, mux: http.NewServeMux()}
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		if cfg.TLSCert == "" || cfg.TLSKey == "" {
			return nil, fmt.Errorf("tls: -tls-cert and -tls-key go together")
		}
		c, err := newCertReloader(cfg.TLSCert, cfg.TLSKey, log)
		if err != nil {
			return nil, err
		}
		a.certs = c
	}
	key := cfg.TicketKey
	if len(key) == 0 {
		var err error
		if key, err = storedTicketKey(ctx, st); err != nil {
			return nil, err
		}
	}
	if cfg.GeoIPPath != "" {
		geo, err := geoip2.Open(cfg.GeoIPPath)
		if err != nil {
			return nil, fmt.Errorf("geoip: %w", err)
		}
		a.geo = geo
	}
	a.lead = leader.New(cli, leader.Config{Election: cfg.Election, TTL: cfg.LeaseTTL, Log: log})
	a.pub = publish.New(cli, st, publish.Config{Prefix: cfg.Prefix, Debounce: cfg.Debounce, Recheck: cfg.Recheck,
		Score: cfg.Score, Log: log})
	a.reg = registry.New(st, registry.Config{AllowPrivate: cfg.AllowPrivate, NTPPort: cfg.NTPPort, GeoIP: a.geo,
		CheckTimeout: cfg.CheckTime, OnChange: func(id int64) { a.pub.Changed(id) }})
	ac := cfg.API
	ac.Score, ac.Assign, ac.TicketKey, ac.AllowPrivate, ac.Log = cfg.Score, cfg.Assign, key, cfg.AllowPrivate, log
	ac.TrustedProxies = cfg.TrustedProxies
	ac.OnScores = func(ids []int64) { a.pub.Changed(ids...) }
	a.api = api.New(st, ac)
	a.sched = scheduler.New(st, scheduler.Config{Assign: cfg.Assign, Tick: cfg.Tick, Retention: cfg.Retention,
		OnChange: a.pub.Changed, Log: log})
	a.leaderJobs()

	// The HTTP surface: the monitor API under /monitor/v1/, the web UI at "/".
	a.mux.Handle("/monitor/v1/", a.api.Handler())
	if err := a.mountWeb(); err != nil {
		return nil, err
	}
	return a, nil
}

// leaderJobs registers what only the leader does; every job runs while
// this instance leads and stops when its term ends (package leader).
func (a *app) leaderJobs() {
	cfg := a.cfg
	a.lead.Add("publisher", a.pub.Lead)
	a.lead.Add("monitor selection", leader.Plain(a.sched.RunSelection))
	a.lead.Add("deletions and retention", leader.Plain(a.sched.RunCleanup))
	alerts := alert.NewJob(alert.JobConfig{Rules: cfg.Alert, SiteName: cfg.SiteName, BaseURL: strings.TrimRight(cfg.BaseURL, "/")},
		a.st, mail.New(cfg.Mail, a.log), a.log, nil, a.pub.ChangedAll)
	a.lead.Add("alerts and automatic removal", leader.Plain(alerts.Run))
	every := cfg.ZoneCountsEvery
	if every <= 0 {
		every = 4 * time.Hour
	}
	a.lead.Add("zone counts", census.Daily(a.st, cfg.Score, every, nil, a.log))
}

// storedTicketKey returns the ticket key kept in the database, creating it
// on first use, so every instance on one database signs alike.
func storedTicketKey(ctx context.Context, st *store.Store) ([]byte, error) {
	b := make([]byte, 32)
	rand.Read(b)
	// Only the first instance's key is stored; the others adopt it.
	v, err := st.InitSetting(ctx, ticketKeySetting, hex.EncodeToString(b))
	if err != nil {
		return nil, err
	}
	return hex.DecodeString(v)
}

// listen opens the HTTP listener, with TLS when configured (separately, so
// dev can print the address before anything else starts).
func (a *app) listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", a.cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", a.cfg.Listen, err)
	}
	if a.certs != nil {
		ln = tls.NewListener(ln, a.certs.tlsConfig())
	}
	return ln, nil
}

// scheme is the listener's URL scheme.
func (a *app) scheme() string {
	if a.certs != nil {
		return "https"
	}
	return "http"
}

// run serves HTTP on ln and campaigns, running the leader's jobs while
// leading, until ctx ends.
func (a *app) run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           http.NewCrossOriginProtection().Handler(a.mux),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	})
	wg.Go(func() { a.lead.Run(ctx) })
	wg.Go(func() { a.pub.Forward(ctx) }) // changes made here reach the leader
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	srv.Shutdown(sctx)
	cancel()
	wg.Wait()
	if a.web != nil {
		a.web.Close()
	}
	if a.geo != nil {
		a.geo.Close()
	}
	return err
}
