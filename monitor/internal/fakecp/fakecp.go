// Package fakecp is a small in-memory implementation of the control plane's
// monitor API (package monitorapi) for the agent's tests and load harness:
// bearer token, time-ordered batch ids, HMAC tickets bound to monitor, batch
// and IP, idempotent submissions, 409 for stale batches, 4xx for bad input,
// and switches to answer 5xx or to lose acknowledgements.
package fakecp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ntppool-ng/ntppool/monitorapi"
)

// Server is an http.Handler; configure the exported fields before serving.
type Server struct {
	Token  string
	Config monitorapi.Config
	// Interval between two hand-outs of one server.
	Interval time.Duration
	// MaxBatches stops handing out work after that many batches (0: never).
	MaxBatches int

	// FailStatus, when non-zero, is the answer to every request.
	FailStatus atomic.Int32
	// FailResults, when non-zero, is the answer to every submission.
	FailResults atomic.Int32
	// LoseAcks makes the next n accepted submissions commit and then answer
	// 502, as if the acknowledgement were lost on the way.
	LoseAcks atomic.Int32

	key    []byte
	mu     sync.Mutex
	due    map[netip.Addr]time.Time
	order  []netip.Addr
	lastID int64
	newest string
	// batches handed out, by id
	batches map[string]*Batch
	handed  []string
	stats   Stats
	lag     []time.Duration
}

// Batch is one handed-out batch and what became of it.
type Batch struct {
	ID        string
	Tickets   map[netip.Addr]string
	HandedAt  time.Time
	Committed bool
	Results   []monitorapi.Result
}

// Stats count what the server saw.
type Stats struct {
	Handed, Committed, Duplicates, Stale, Refused, Results int
	Failed                                                 int // requests answered by FailStatus
}

// New returns a server handing out servers every interval.
func New(token string, cfg monitorapi.Config, servers []netip.Addr, interval time.Duration) *Server {
	s := &Server{Token: token, Config: cfg, Interval: interval, key: []byte("fakecp-ticket-key"),
		due: map[netip.Addr]time.Time{}, batches: map[string]*Batch{}}
	now := time.Now()
	for _, ip := range servers {
		s.due[ip] = now
		s.order = append(s.order, ip)
	}
	return s
}

// SpreadDue makes the servers due evenly over the next interval instead of
// all at once: the steady state of a pool whose servers joined at different
// times.
func (s *Server) SpreadDue() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	for i, ip := range s.order {
		s.due[ip] = now.Add(s.Interval * time.Duration(i) / time.Duration(len(s.order)))
	}
}

func (s *Server) ticket(batch string, ip netip.Addr) string {
	m := hmac.New(sha256.New, s.key)
	fmt.Fprintf(m, "%d|%s|%s", s.Config.MonitorID, batch, ip)
	return hex.EncodeToString(m.Sum(nil))
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.fail(w, &s.FailStatus) {
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		writeErr(w, http.StatusUnauthorized, "bad token")
		return
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == monitorapi.PathConfig:
		writeJSON(w, http.StatusOK, s.Config)
	case r.Method == http.MethodPost && r.URL.Path == monitorapi.PathWork:
		writeJSON(w, http.StatusOK, s.work())
	case r.Method == http.MethodPost && r.URL.Path == monitorapi.PathResults:
		s.results(w, r)
	default:
		writeErr(w, http.StatusNotFound, "no such endpoint")
	}
}

func (s *Server) work() monitorapi.Work {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.MaxBatches > 0 && len(s.handed) >= s.MaxBatches {
		return monitorapi.Work{NextPoll: s.Config.IdlePoll}
	}
	id := max(now.UnixNano(), s.lastID+1)
	s.lastID = id
	b := &Batch{ID: fmt.Sprintf("%020d", id), Tickets: map[netip.Addr]string{}, HandedAt: now}
	w := monitorapi.Work{BatchID: b.ID}
	for _, ip := range s.order {
		if len(w.Servers) >= max(s.Config.BatchMax, 1) {
			break
		}
		if due := s.due[ip]; !due.After(now) {
			s.lag = append(s.lag, now.Sub(due))
			s.due[ip] = now.Add(s.Interval)
			t := s.ticket(b.ID, ip)
			b.Tickets[ip] = t
			w.Servers = append(w.Servers, monitorapi.Assignment{IP: ip, Ticket: t})
		}
	}
	if len(w.Servers) == 0 {
		return monitorapi.Work{NextPoll: s.Config.IdlePoll}
	}
	s.batches[b.ID] = b
	s.handed = append(s.handed, b.ID)
	s.stats.Handed++
	return w
}

func (s *Server) results(w http.ResponseWriter, r *http.Request) {
	if s.fail(w, &s.FailResults) {
		return
	}
	var in monitorapi.Results
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, monitorapi.MaxBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		s.refuse(w, http.StatusBadRequest, "invalid body: "+err.Error())
		return
	}
	s.mu.Lock()
	b := s.batches[in.BatchID]
	if b == nil {
		s.mu.Unlock()
		s.refuse(w, http.StatusForbidden, "unknown batch")
		return
	}
	for _, res := range in.Results {
		if t, ok := b.Tickets[res.IP]; !ok || !hmac.Equal([]byte(t), []byte(res.Ticket)) {
			s.mu.Unlock()
			s.refuse(w, http.StatusForbidden, "invalid ticket for "+res.IP.String())
			return
		}
	}
	if b.Committed {
		s.stats.Duplicates++
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, monitorapi.Ack{BatchID: b.ID, Duplicate: true})
		return
	}
	if in.BatchID < s.newest {
		s.stats.Stale++
		s.mu.Unlock()
		writeErr(w, http.StatusConflict, "batch older than the newest accepted")
		return
	}
	b.Committed, b.Results = true, in.Results
	s.newest = in.BatchID
	s.stats.Committed++
	s.stats.Results += len(in.Results)
	s.mu.Unlock()
	if s.LoseAcks.Load() > 0 && s.LoseAcks.Add(-1) >= 0 {
		writeErr(w, http.StatusBadGateway, "acknowledgement lost")
		return
	}
	writeJSON(w, http.StatusOK, monitorapi.Ack{BatchID: in.BatchID, Accepted: len(in.Results)})
}

// fail answers with the status in sw, if one is set.
func (s *Server) fail(w http.ResponseWriter, sw *atomic.Int32) bool {
	st := sw.Load()
	if st == 0 {
		return false
	}
	s.mu.Lock()
	s.stats.Failed++
	s.mu.Unlock()
	writeErr(w, int(st), "failure injected by the test")
	return true
}

func (s *Server) refuse(w http.ResponseWriter, status int, msg string) {
	s.mu.Lock()
	s.stats.Refused++
	s.mu.Unlock()
	writeErr(w, status, msg)
}

// Stats returns the counters so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Handed returns the handed-out batches in order (copies).
func (s *Server) Handed() []Batch {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Batch, 0, len(s.handed))
	for _, id := range s.handed {
		out = append(out, *s.batches[id])
	}
	return out
}

// Lags returns, and forgets, how late each hand-out was after its due time.
func (s *Server) Lags() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.lag
	s.lag = nil
	return l
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, monitorapi.Error{Error: msg})
}
