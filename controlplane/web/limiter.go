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
	table int // tableClients or tableTargets
	rule  rule
	key   limKey
}

// bucket is a token bucket; an absent bucket is a full one.
type bucket struct {
	tokens float64
	at     int64  // Unix ns of the last take
	fullAt int64  // Unix ns when it is full again (and can be forgotten)
	seq    uint64 // matches the queue entry that created it
}

// level is the bucket's tokens at now.
func (b bucket) level(r rule, now int64) float64 {
	t := b.tokens + float64(now-b.at)/1e9*float64(r.rate)
	return min(t, float64(r.burst))
}

// Tables of the limiter: clients apart from what they aim at (addresses
// mailed, accounts), so a flood of new targets cannot push the clients'
// buckets out, nor the other way round.
const (
	tableClients = iota
	tableTargets
	numTables
)

// limiter keeps token buckets for log-in, sign-up, reset and password
// checks. Its state is bounded: a refused request creates nothing, keys are
// fixed-size hashes, each table holds at most max buckets, and buckets full
// again (which carry nothing) are forgotten as requests come, on every
// instance. Only when a table is full of buckets still refilling are the
// oldest dropped.
type limiter struct {
	mu        sync.Mutex
	tables    [numTables]table
	lastPrune int64
}

type table struct {
	max   int
	m     map[limKey]bucket
	queue []queued // creation order, for eviction
	head  int
	seq   uint64
}

type queued struct {
	key limKey
	seq uint64
}

// defaultMaxBuckets bounds each table: ~100 bytes a bucket, 10 MB at most.
const defaultMaxBuckets = 100_000

func newLimiter(max int) *limiter {
	if max <= 0 {
		max = defaultMaxBuckets
	}
	l := &limiter{}
	for i := range l.tables {
		l.tables[i] = table{max: max, m: make(map[limKey]bucket)}
	}
	return l
}

// allow takes one token from every limit's bucket when all have one, and
// reports whether it did. When any is empty nothing is taken and nothing
// is created, so refused requests cost no memory. Every key pays, so a
// client cannot spread guesses over many emails, nor many clients over one
// email.
func (l *limiter) allow(at time.Time, lims ...limit) bool {
	now := at.UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, lim := range lims {
		if b, ok := l.tables[lim.table].m[lim.key]; ok && b.level(lim.rule, now) < 1 {
			return false
		}
	}
	if now-l.lastPrune > int64(time.Minute) {
		l.pruneLocked(now)
	}
	for _, lim := range lims {
		t := &l.tables[lim.table]
		b, ok := t.m[lim.key]
		if !ok {
			t.makeRoom(now)
			t.seq++
			b = bucket{tokens: float64(lim.rule.burst), seq: t.seq}
			t.queue = append(t.queue, queued{lim.key, t.seq})
		} else {
			b.tokens = b.level(lim.rule, now)
		}
		b.tokens--
		b.at = now
		b.fullAt = now
		if lim.rule.rate > 0 {
			b.fullAt += int64((float64(lim.rule.burst) - b.tokens) / float64(lim.rule.rate) * 1e9)
		}
		t.m[lim.key] = b
	}
	return true
}

// refund gives back the token allow took from each limit's bucket.
func (l *limiter) refund(at time.Time, lims ...limit) {
	now := at.UnixNano()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, lim := range lims {
		t := &l.tables[lim.table]
		if b, ok := t.m[lim.key]; ok {
			b.tokens = min(b.level(lim.rule, now)+1, float64(lim.rule.burst))
			b.at = now
			t.m[lim.key] = b
		}
	}
}

// makeRoom makes room for one more bucket: first by forgetting buckets full
// again, then, if the table is still full, by dropping the oldest tenth.
func (t *table) makeRoom(now int64) {
	if len(t.m) < t.max {
		return
	}
	t.prune(now)
	for len(t.m) >= t.max-t.max/10 && t.head < len(t.queue) {
		q := t.queue[t.head]
		t.head++
		if b, ok := t.m[q.key]; ok && b.seq == q.seq {
			delete(t.m, q.key)
		}
	}
	if t.head > 0 && t.head >= len(t.queue)/2 {
		t.queue = append(t.queue[:0], t.queue[t.head:]...)
		t.head = 0
	}
}

// prune forgets buckets full again.
func (l *limiter) prune(at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pruneLocked(at.UnixNano())
}

func (l *limiter) pruneLocked(now int64) {
	l.lastPrune = now
	for i := range l.tables {
		l.tables[i].prune(now)
	}
}

func (t *table) prune(now int64) {
	for k, b := range t.m {
		if b.fullAt <= now {
			delete(t.m, k)
		}
	}
	live := t.queue[:0]
	for _, q := range t.queue[t.head:] {
		if b, ok := t.m[q.key]; ok && b.seq == q.seq {
			live = append(live, q)
		}
	}
	clear(t.queue[len(live):])
	t.queue, t.head = live, 0
}

// len is the number of buckets held.
func (l *limiter) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, t := range l.tables {
		n += len(t.m)
	}
	return n
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
	return []limit{{tableClients, c, keyOf("client", s.clientKey(r))}, {tableTargets, c, keyOf("email", email)}}
}

// verifyLimit is the bucket a /verify/TOKEN request pays: its client's, at
// the AuthRate, apart from its log-in bucket.
func (s *Server) verifyLimit(r *http.Request) limit {
	return limit{tableClients, rule{s.cfg.AuthRate, s.cfg.AuthBurst}, keyOf("verify", s.clientKey(r))}
}

// passwordLimits are the buckets a password check against account (its
// email address) pays: the client, the (account, client) pair, and, unless
// this client logged in to the account before, the account's budget.
func (s *Server) passwordLimits(r *http.Request, account string) []limit {
	client := s.clientKey(r)
	lims := []limit{
		{tableClients, rule{s.cfg.AuthRate, s.cfg.AuthBurst}, keyOf("client", client)},
		{tableTargets, rule{s.cfg.AccountClientRate, s.cfg.AccountClientBurst}, keyOf("account-client", account, client)},
	}
	if !s.passed.has(keyOf("passed", account, client), s.now()) {
		lims = append(lims, limit{tableTargets, rule{s.cfg.AccountRate, s.cfg.AccountBurst}, keyOf("account", account)})
	}
	return lims
}

// passedPassword records that the request's client knew account's
// password, and refunds what the check took from the account's buckets:
// they count wrong guesses (the client's bucket, which bounds bcrypt work,
// is not refunded).
func (s *Server) passedPassword(r *http.Request, account string, lims []limit) {
	s.passed.add(keyOf("passed", account, s.clientKey(r)), s.now())
	s.limits.refund(s.now(), lims[1:]...)
}
