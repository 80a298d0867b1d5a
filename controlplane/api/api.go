// Package api serves the monitor API (/monitor/v1/..., types in package
// monitorapi): bearer-token authentication, work handout in batches with
// HMAC tickets, and result ingestion that scores each probe and the
// server's overall score in one transaction per batch.
//
// # Contract
//
// See package monitorapi for the wire contract. Besides it: a batch is
// checked whole before anything is stored (size, fields, every ticket), a
// batch already committed answers its old Ack with Duplicate set, a batch id
// below the monitor's newest is refused with 409, and the Ack is written
// only after the commit returned. An empty batch (no ticket vouches for its
// id) is acknowledged and not recorded. After each commit the servers whose
// overall score changed are handed to Config.OnScores (the publisher).
//
// # Usage
//
//	srv := api.New(st, api.Config{Score: score.DefaultConfig(), Assign: assign.DefaultConfig(), TicketKey: key})
//	mux.Handle("/monitor/v1/", srv.Handler())
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/assign"
	"github.com/ntppool-ng/ntppool/controlplane/clientip"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/monitorapi"
)

// Config is the API's behaviour. Zero fields take the defaults noted.
type Config struct {
	Score  score.Config
	Assign assign.Config
	// TicketKey signs tickets (at least 32 random bytes). Every instance of
	// the control plane must share it.
	TicketKey []byte
	// BatchMax servers per batch (10; at most 1,000).
	BatchMax int
	// Probe settings handed to monitors (3 samples, 2s apart, 3s timeout).
	Samples int
	Spacing time.Duration
	Timeout time.Duration
	// IdlePoll: how long a monitor waits when nothing was due (30s), and
	// the longest NextPoll the handout suggests.
	IdlePoll time.Duration
	// AllowPrivate lets monitors probe non-public addresses (local pools).
	AllowPrivate  bool
	BaseServers   []string
	BaseMaxOffset time.Duration // 10ms
	BaseCheckTTL  time.Duration // 3m
	// AnyAddress accepts every monitor from any address, as if each were
	// behind NAT; otherwise a monitor with registered addresses must call
	// from one of them (or have its own behind-NAT setting).
	AnyAddress bool
	// TrustedProxies are the reverse proxies whose X-Forwarded-For names
	// the monitor (package clientip, as for the web site). Empty: the TCP
	// peer is the monitor.
	TrustedProxies []netip.Prefix
	// MaxFuture: a result stamped further ahead of the control plane's
	// clock is invalid (1 minute).
	MaxFuture time.Duration
	// OnScores receives the servers whose overall score was updated, after
	// the commit. It must not block for long.
	OnScores func(serverIDs []int64)
	// Now is the clock (time.Now).
	Now func() time.Time
	Log *slog.Logger
}

func (c *Config) fill() {
	if c.BatchMax <= 0 {
		c.BatchMax = 10
	}
	// A batch is one set of multi-row statements: keep it well inside
	// SQLite's bound-parameter limit.
	c.BatchMax = min(c.BatchMax, 1000)
	d := monitorapi.DefaultProbe()
	if c.Samples <= 0 {
		c.Samples = d.Samples
	}
	if c.Spacing <= 0 {
		c.Spacing = d.Spacing
	}
	if c.Timeout <= 0 {
		c.Timeout = d.Timeout
	}
	if c.IdlePoll <= 0 {
		c.IdlePoll = d.IdlePoll
	}
	if c.BaseMaxOffset <= 0 {
		c.BaseMaxOffset = d.BaseMaxOffset
	}
	if c.BaseCheckTTL <= 0 {
		c.BaseCheckTTL = d.BaseCheckTTL
	}
	if c.MaxFuture <= 0 {
		c.MaxFuture = time.Minute
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.OnScores == nil {
		c.OnScores = func([]int64) {}
	}
}

// Server is the monitor API.
type Server struct {
	st    *store.Store
	cfg   Config
	stats Stats
	queue ingestQueue // batches waiting for their group's commit (results.go)
	pairs pairCache   // the committer's pairs between groups (results.go)
}

// Stats count what the API did since start, for metrics.
type Stats struct {
	Results    atomic.Int64 // results committed
	Batches    atomic.Int64 // batches committed
	Commits    atomic.Int64 // transactions that stored batches (group commit: several batches each)
	Duplicates atomic.Int64 // replayed batches answered from the store
	Refused    atomic.Int64 // requests answered 4xx
}

// Stats returns the live counters.
func (s *Server) Stats() *Stats { return &s.stats }

// New returns the API over st.
func New(st *store.Store, cfg Config) *Server {
	cfg.fill()
	return &Server{st: st, cfg: cfg}
}

// Handler serves the /monitor/v1/ routes.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+monitorapi.PathConfig, s.auth(s.showConfig, true))
	mux.HandleFunc("POST "+monitorapi.PathWork, s.auth(s.handOutWork, true))
	// A batch's call is recorded in its group's transaction: a write
	// of its own per call would queue behind (and between) the commits.
	mux.HandleFunc("POST "+monitorapi.PathResults, s.auth(s.saveResults, false))
	return mux
}

// apiError is a refusal with its HTTP status; its text goes to the monitor.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func refuse(status int, msg string) error { return &apiError{status: status, msg: msg} }

// writeError answers err: an apiError with its status and text, anything
// else as a 500 whose detail stays in the log.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if ae, ok := errors.AsType[*apiError](err); ok {
		s.stats.Refused.Add(1)
		writeJSON(w, ae.status, monitorapi.Error{Error: ae.msg})
		return
	}
	if errors.Is(err, context.Canceled) {
		return
	}
	s.cfg.Log.Error("monitor api", "path", r.URL.Path, "err", err)
	writeJSON(w, http.StatusInternalServerError, monitorapi.Error{Error: "internal error, retry later"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

type monitorHandler func(w http.ResponseWriter, r *http.Request, m store.Monitor)

// auth finds the monitor of the bearer token; only globally active and
// testing monitors get through, and only from a registered address unless
// it is behind NAT. Every call that gets through sets last_seen and the
// address it came from: here when touch is set, else in the handler.
func (s *Server) auth(next monitorHandler, touch bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || tok == "" {
			s.writeError(w, r, refuse(http.StatusUnauthorized, "missing bearer token"))
			return
		}
		m, err := s.st.MonitorByTokenHash(r.Context(), store.HashToken(tok))
		if errors.Is(err, store.ErrNotFound) {
			s.writeError(w, r, refuse(http.StatusUnauthorized, "unknown token"))
			return
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if g, err := assign.ParseGlobalState(m.State); err != nil || !g.Works() {
			s.writeError(w, r, refuse(http.StatusForbidden, "monitor is "+m.State+", not active or testing"))
			return
		}
		from := clientip.Proxies(s.cfg.TrustedProxies).Client(r)
		if !s.cfg.AnyAddress && !m.BehindNAT && !m.Registered(from) {
			s.writeError(w, r, refuse(http.StatusForbidden, fmt.Sprintf("monitor %s calls from %s, not from an address it registered", m.Name, from)))
			return
		}
		if touch {
			if err := s.st.TouchMonitor(r.Context(), m.ID, from, s.cfg.Now()); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		next(w, r, m)
	}
}

func (s *Server) showConfig(w http.ResponseWriter, r *http.Request, m store.Monitor) {
	writeJSON(w, http.StatusOK, monitorapi.Config{
		MonitorID:     m.ID,
		Name:          m.Name,
		Samples:       s.cfg.Samples,
		Spacing:       monitorapi.Duration(s.cfg.Spacing),
		Timeout:       monitorapi.Duration(s.cfg.Timeout),
		BatchMax:      s.cfg.BatchMax,
		IdlePoll:      monitorapi.Duration(s.cfg.IdlePoll),
		AllowPrivate:  s.cfg.AllowPrivate,
		BaseServers:   s.cfg.BaseServers,
		BaseMaxOffset: monitorapi.Duration(s.cfg.BaseMaxOffset),
		BaseCheckTTL:  monitorapi.Duration(s.cfg.BaseCheckTTL),
		IPv4:          m.V4,
		IPv6:          m.V6,
		IP4:           m.IP4,
		IP6:           m.IP6,
		Score:         scoreOptions(s.cfg.Score),
	})
}

func scoreOptions(c score.Config) monitorapi.ScoreOptions {
	return monitorapi.ScoreOptions{LeapUnsyncIsError: c.LeapUnsyncIsError, RampWidth: c.RampWidth, RampFloor: c.RampFloor}
}
