// Package publish writes the pool's published server sets into etcd in the
// record format (package record) and keeps them current.
//
// # Leadership and fencing
//
// Any number of control planes may run; one leads, elected with etcd's
// concurrency package (NewSession, NewElection, Campaign). Every write is
// one transaction guarded by Compare(CreateRevision(electionKey), "=", rev),
// the fence of Election.Proclaim: a publisher that lost its lease, however
// late it notices, cannot write. It stops publishing when its session ends
// and campaigns again.
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
//	go p.Run(ctx)
//	p.Changed(serverID)
package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

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
	// ElectionPrefix is the election's key prefix, outside Prefix
	// ("/ntppool-control/leader").
	ElectionPrefix string
	// Name identifies this instance in the election (hostname:pid).
	Name string
	// TTL of the leader's lease (10s): a dead leader is replaced within it.
	TTL time.Duration
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
	if c.ElectionPrefix == "" {
		c.ElectionPrefix = "/ntppool-control/leader"
	}
	if c.Name == "" {
		h, _ := os.Hostname()
		c.Name = fmt.Sprintf("%s:%d", h, os.Getpid())
	}
	if c.TTL <= 0 {
		c.TTL = 10 * time.Second
	}
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
	cli    *clientv3.Client
	src    Source
	cfg    Config
	leader atomic.Bool
	kick   chan struct{}

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

// IsLeader reports whether this instance leads (and so publishes).
func (p *Publisher) IsLeader() bool { return p.leader.Load() }

// Writes counts the etcd transactions this publisher committed (tests,
// metrics).
func (p *Publisher) Writes() int64 { return p.writes.Load() }

// Run campaigns, publishes while leading, and campaigns again after losing
// the lease, until ctx ends. It resigns on the way out so a successor need
// not wait for the lease to expire.
func (p *Publisher) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		err := p.term(ctx)
		p.leader.Store(false)
		if ctx.Err() != nil {
			return nil
		}
		p.cfg.Log.Warn("publisher: leadership ended, campaigning again", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second): // etcd unreachable: do not spin
		}
	}
	return nil
}

// term is one session: campaign, then lead until the session or ctx ends.
func (p *Publisher) term(ctx context.Context) error {
	sess, err := concurrency.NewSession(p.cli, concurrency.WithTTL(max(1, int(p.cfg.TTL/time.Second))),
		concurrency.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("publish: session: %w", err)
	}
	defer sess.Close() // revokes the lease: a successor takes over at once
	el := concurrency.NewElection(sess, p.cfg.ElectionPrefix)
	if err := el.Campaign(ctx, p.cfg.Name); err != nil {
		return fmt.Errorf("publish: campaign: %w", err)
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-sess.Done():
			cancel()
		case <-lctx.Done():
		}
	}()
	p.cfg.Log.Info("publisher: leading", "name", p.cfg.Name, "key", el.Key())
	p.leader.Store(true)
	err = p.lead(lctx, fence{key: el.Key(), rev: el.Rev()})
	p.leader.Store(false)
	select {
	case <-sess.Done():
		err = fmt.Errorf("publish: lease lost (etcd unreachable or too slow for %v): %w", p.cfg.TTL, err)
	default:
	}
	if ctx.Err() != nil {
		rctx, rcancel := context.WithTimeout(context.Background(), 2*time.Second)
		el.Resign(rctx)
		rcancel()
	}
	return err
}
