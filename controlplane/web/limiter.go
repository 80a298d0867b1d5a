package web

import (
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter keeps one token bucket per key ("ip:192.0.2.1", "email:a@b"), so
// log-in, sign-up and reset attempts are limited per client and per
// target address.
type limiter struct {
	mu    sync.Mutex
	r     rate.Limit
	burst int
	m     map[string]*limEntry
	// pruned is when idle buckets were last forgotten: allow does it at
	// most once a minute, so the map stays small on every instance.
	pruned time.Time
}

type limEntry struct {
	l    *rate.Limiter
	seen time.Time
}

func newLimiter(r rate.Limit, burst int) *limiter {
	return &limiter{r: r, burst: burst, m: make(map[string]*limEntry)}
}

// allow takes one token from every key's bucket; it is false when any of
// them is empty. Every key pays, so a client cannot spread guesses over
// many emails, nor many clients over one email.
func (l *limiter) allow(now time.Time, keys ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.pruned) >= time.Minute {
		l.prune(now)
	}
	ok := true
	for _, k := range keys {
		e := l.m[k]
		if e == nil {
			e = &limEntry{l: rate.NewLimiter(l.r, l.burst)}
			l.m[k] = e
		}
		e.seen = now
		if !e.l.AllowN(now, 1) {
			ok = false
		}
	}
	return ok
}

// prune forgets buckets idle long enough to be full again; l.mu is held.
func (l *limiter) prune(now time.Time) {
	l.pruned = now
	idle := time.Duration(float64(l.burst)/float64(l.r)*float64(time.Second)) + time.Minute
	for k, e := range l.m {
		if now.Sub(e.seen) > idle {
			delete(l.m, k)
		}
	}
}

// clientKey is the rate-limit key of the request's peer address.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return "ip:" + host
}

func emailKey(email string) string { return "email:" + strings.ToLower(strings.TrimSpace(email)) }
