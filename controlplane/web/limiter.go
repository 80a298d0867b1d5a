package web

import (
	"crypto/sha256"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limKey is a bucket's key: a hash of its kind and parts, so a key costs 16
// bytes whatever the client sends (no 64 KiB email keys).
type limKey [16]byte

// keyOf hashes a kind ("client", "account", ...) and its parts.
func keyOf(kind string, parts ...string) limKey {
	h := sha256.New()
	h.Write([]byte(kind))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	var k limKey
	copy(k[:], h.Sum(nil))
	return k
}

// rule is a token bucket's shape: burst tokens, refilled at rate a second.
type rule struct {
	rate  rate.Limit
	burst int
}

// limit is one bucket a request must take a token from.
type limit struct {
	rule rule
	key  limKey
}

// bucket is a token bucket; an absent bucket is a full one.
type bucket struct {
	tokens float64
	at     time.Time
	seq    uint64 // matches the queue entry that created it
}

// level is the bucket's tokens at now.
func (b bucket) level(r rule, now time.Time) float64 {
	t := b.tokens + now.Sub(b.at).Seconds()*float64(r.rate)
	return min(t, float64(r.burst))
}

// limiter keeps token buckets for log-in, sign-up, reset and password
// checks. Its state is bounded: a refused request creates nothing, keys are
// fixed-size hashes, there are at most max buckets (the oldest is dropped
// first), and buckets full again are pruned as requests come, on every
// instance.
type limiter struct {
	mu        sync.Mutex
	max       int
	m         map[limKey]bucket
	queue     []queued // creation order, for eviction
	head      int
	seq       uint64
	lastPrune time.Time
	maxIdle   time.Duration // longest time any rule takes to refill
}

type queued struct {
	key limKey
	seq uint64
}

// defaultMaxBuckets bounds the limiter: ~100 bytes a bucket, 10 MB at most.
const defaultMaxBuckets = 100_000

func newLimiter(max int) *limiter {
	if max <= 0 {
		max = defaultMaxBuckets
	}
	return &limiter{max: max, m: make(map[limKey]bucket)}
}

// allow takes one token from every limit's bucket when all have one, and
// reports whether it did. When any is empty nothing is taken and nothing
// is created, so refused requests cost no memory. Every key pays, so a
// client cannot spread guesses over many emails, nor many clients over one
// email.
func (l *limiter) allow(now time.Time, lims ...limit) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, lim := range lims {
		if b, ok := l.m[lim.key]; ok && b.level(lim.rule, now) < 1 {
			return false
		}
	}
	if now.Sub(l.lastPrune) > time.Minute {
		l.pruneLocked(now)
	}
	for _, lim := range lims {
		if idle := lim.rule.refill(); idle > l.maxIdle {
			l.maxIdle = idle
		}
		b, ok := l.m[lim.key]
		if !ok {
			l.evictFor(1)
			l.seq++
			b = bucket{tokens: float64(lim.rule.burst), seq: l.seq}
			l.queue = append(l.queue, queued{lim.key, l.seq})
		} else {
			b.tokens = b.level(lim.rule, now)
		}
		b.tokens--
		b.at = now
		l.m[lim.key] = b
	}
	return true
}

// refill is how long an empty bucket takes to be full again.
func (r rule) refill() time.Duration {
	if r.rate <= 0 {
		return 0
	}
	return time.Duration(float64(r.burst) / float64(r.rate) * float64(time.Second))
}

// evictFor drops the oldest buckets until n more fit.
func (l *limiter) evictFor(n int) {
	for len(l.m)+n > l.max && l.head < len(l.queue) {
		q := l.queue[l.head]
		l.head++
		if b, ok := l.m[q.key]; ok && b.seq == q.seq {
			delete(l.m, q.key)
		}
	}
	l.compact()
}

// compact drops the queue's consumed front once it is half the queue.
func (l *limiter) compact() {
	if l.head > 0 && l.head >= len(l.queue)/2 {
		l.queue = append(l.queue[:0], l.queue[l.head:]...)
		l.head = 0
	}
}

// prune forgets buckets idle long enough to be full again.
func (l *limiter) prune(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pruneLocked(now)
}

func (l *limiter) pruneLocked(now time.Time) {
	l.lastPrune = now
	for k, b := range l.m {
		if now.Sub(b.at) > l.maxIdle {
			delete(l.m, k)
		}
	}
	live := l.queue[:0]
	for _, q := range l.queue[l.head:] {
		if b, ok := l.m[q.key]; ok && b.seq == q.seq {
			live = append(live, q)
		}
	}
	clear(l.queue[len(live):])
	l.queue, l.head = live, 0
}

// len is the number of buckets held.
func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.m)
}

// passedSet remembers which (account, client) pairs logged in successfully,
// for a while: those clients skip the account-wide budget, so an attacker
// draining it cannot lock out the account's usual clients. Bounded like the
// limiter (oldest dropped first).
type passedSet struct {
	mu    sync.Mutex
	max   int
	ttl   time.Duration
	m     map[limKey]time.Time // expiry
	queue []limKey
}

func newPassedSet(max int, ttl time.Duration) *passedSet {
	return &passedSet{max: max, ttl: ttl, m: make(map[limKey]time.Time)}
}

func (p *passedSet) add(k limKey, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.m[k]; !ok {
		p.queue = append(p.queue, k)
	}
	p.m[k] = now.Add(p.ttl)
	for len(p.m) > p.max && len(p.queue) > 0 {
		delete(p.m, p.queue[0])
		p.queue = p.queue[1:]
	}
	if cap(p.queue) > 2*p.max {
		p.queue = append([]limKey(nil), p.queue...)
	}
}

func (p *passedSet) has(k limKey, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	exp, ok := p.m[k]
	return ok && now.Before(exp)
}

// mailLimits are the buckets a request that mails someone (sign-up, reset,
// invitation) pays: its client and the address mailed.
func (s *Server) mailLimits(r *http.Request, email string) []limit {
	c := rule{s.cfg.AuthRate, s.cfg.AuthBurst}
	return []limit{{c, keyOf("client", s.clientKey(r))}, {c, keyOf("email", email)}}
}

// passwordLimits are the buckets a password check against account (its
// email address) pays: the client, the (account, client) pair, and, unless
// this client logged in to the account before, the account's budget.
func (s *Server) passwordLimits(r *http.Request, account string) []limit {
	client := s.clientKey(r)
	lims := []limit{
		{rule{s.cfg.AuthRate, s.cfg.AuthBurst}, keyOf("client", client)},
		{rule{s.cfg.AccountClientRate, s.cfg.AccountClientBurst}, keyOf("account-client", account, client)},
	}
	if !s.passed.has(keyOf("passed", account, client), s.now()) {
		lims = append(lims, limit{rule{s.cfg.AccountRate, s.cfg.AccountBurst}, keyOf("account", account)})
	}
	return lims
}

// passedPassword records that the request's client knew account's password.
func (s *Server) passedPassword(r *http.Request, account string) {
	s.passed.add(keyOf("passed", account, s.clientKey(r)), s.now())
}
