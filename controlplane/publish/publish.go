// Package publish writes the pool's published server sets into etcd in the
// record format (package record) and keeps them current.
//
// # Leadership and fencing
//
// The publisher is a leader-only job (package leader): Lead runs for one
// term, and every write is one transaction guarded by the term's fence,
// leader.Fence.Cmp, so a publisher whose lease ended, however late it
// notices, cannot write. A refused or failed write ends the term.
//
// # What it writes
//
// On becoming leader it resyncs: it reads every key under the prefix,
// deletes those the store does not say, and puts the rest. Afterwards it
// writes only changes: Changed(serverIDs) (called after a score commit or a
// server edit) is applied within Config.Debounce, and every Config.Recheck
// the whole desired set is recomputed from the store and diffed against
// what was written, which catches changes of time alone (a deletion date
// coming within 14 days) and any missed notification. A server is
// published when it is live, in the pool and score.Config.InDNS says so,
// with weight score.Config.Weight and its (override) country; approved
// vendor zones are published too.
//
// # Usage
//
//	p := publish.New(cli, st, publish.Config{Score: score.DefaultConfig()})
//	l.Add("publisher", p.Lead) // l is the *leader.Leader
//	p.Changed(serverID)
package publish

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/record"
)

// ErrNotLeader is returned by a write that the fence refused.
var ErrNotLeader = errors.New("publish: not the leader")

// Source is what the publisher reads from the store.
type Source interface {
	Servers(ctx context.Context) ([]store.Server, error)
	ServersByID(ctx context.Context, ids []int64) ([]store.Server, error)
	VendorZones(ctx context.Context, status string) ([]store.VendorZone, error)
}

// Config is the publisher's behaviour; zero fields take the defaults noted.
type Config struct {
	// Prefix of the record keys (record.DefaultPrefix).
	Prefix string
	// Debounce gathers changes before a write (50ms).
	Debounce time.Duration
	// Recheck: how often the whole set is recomputed and diffed (10s).
	Recheck time.Duration
	Score   score.Config
	Now     func() time.Time
	Log     *slog.Logger
}

func (c *Config) fill() {
	c.Prefix = record.NormalizePrefix(c.Prefix)
	if c.Debounce <= 0 {
		c.Debounce = 50 * time.Millisecond
	}
	if c.Recheck <= 0 {
		c.Recheck = 10 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
}

// Publisher keeps etcd in step with the store while it leads.
type Publisher struct {
	cli  *clientv3.Client
	src  Source
	cfg  Config
	kick chan struct{}

	mu    sync.Mutex
	dirty map[int64]bool // servers changed since the last write
	all   bool           // recompute everything

	// Written is the newest key -> value this leader wrote (or found).
	written map[string]string
	writes  atomic.Int64
}

// New returns a publisher; Run starts it.
func New(cli *clientv3.Client, src Source, cfg Config) *Publisher {
	cfg.fill()
	return &Publisher{cli: cli, src: src, cfg: cfg, kick: make(chan struct{}, 1), dirty: map[int64]bool{}}
}

// Changed tells the publisher that these servers (score, net speed,
// country, deletion, state) may have changed. It never blocks.
func (p *Publisher) Changed(serverIDs ...int64) {
	p.mu.Lock()
	for _, id := range serverIDs {
		p.dirty[id] = true
	}
	p.mu.Unlock()
	p.poke()
}

// ChangedAll asks for a recomputation of everything (vendor zones, many
// servers at once).
func (p *Publisher) ChangedAll() {
	p.mu.Lock()
	p.all = true
	p.mu.Unlock()
	p.poke()
}

func (p *Publisher) poke() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// Writes counts the etcd transactions this publisher committed (tests,
// metrics).
func (p *Publisher) Writes() int64 { return p.writes.Load() }
