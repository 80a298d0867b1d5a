// Package ntppool is a CoreDNS plugin that serves the NTP Pool's DNS zones
// from server records in etcd: the apex, numbered subsets, country,
// continent and vendor names, with weighted random answers targeted by the
// client's location (EDNS Client Subnet or source address, through a
// MaxMind GeoIP2 database).
//
// The data path: one paged Get pinned at a revision, then a Watch from the
// next revision; every batch of changes makes a new immutable index (sharing
// all it did not change with the old one) that is swapped in with an atomic
// pointer, so the query path takes no lock.
package ntppool

import (
	"context"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coredns/coredns/plugin"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// NTPPool is the plugin: configuration, the current index and the watcher
// that replaces it.
type NTPPool struct {
	Next plugin.Handler

	cfg      Config
	idx      atomic.Pointer[index]
	geo      *geoDB
	rng      randSource
	hostname string

	// afterLoad, when set by a test, runs between a load and its watch.
	afterLoad func(*clientv3.Client)

	loaded   chan struct{} // closed when the first index is in
	loadOnce sync.Once
	cancel   context.CancelFunc
	done     chan struct{}
}

// New returns a plugin for cfg; it opens the GeoIP database but does not
// touch etcd until Start.
func New(cfg Config) (*NTPPool, error) {
	if len(cfg.Origins) == 0 {
		return nil, fmt.Errorf("ntppool: no zone origin")
	}
	if cfg.Records < 1 || cfg.Records > maxAnswer {
		return nil, fmt.Errorf("ntppool: records %d outside 1..%d", cfg.Records, maxAnswer)
	}
	p := &NTPPool{cfg: cfg, rng: globalRand{}, loaded: make(chan struct{})}
	p.hostname, _ = os.Hostname()
	if cfg.GeoIPPath != "" {
		g, err := openGeo(cfg.GeoIPPath)
		if err != nil {
			return nil, fmt.Errorf("ntppool: geoip %s: %w", cfg.GeoIPPath, err)
		}
		p.geo = g
	}
	return p, nil
}

// Name implements plugin.Handler.
func (p *NTPPool) Name() string { return pluginName }

// setIndex swaps ix in; queries that already loaded the old one finish on it.
func (p *NTPPool) setIndex(ix *index) { p.publish(ix, nil) }

// publish swaps ix in, whose zones other than touched are those of the
// index it replaces (touched nil: every zone may differ).
func (p *NTPPool) publish(ix *index, touched []*zone) {
	p.idx.Store(ix)
	markUpdated(ix.built)
	publishServerCounts(ix, touched)
	p.loadOnce.Do(func() { close(p.loaded) })
}

// Start starts the etcd watcher and waits up to StartupTimeout for the first
// index. With etcd down it returns nil anyway: the plugin is then not ready
// and keeps retrying.
func (p *NTPPool) Start() error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	p.done = make(chan struct{})
	go func() {
		defer close(p.done)
		p.run(ctx)
	}()
	t := time.NewTimer(p.cfg.StartupTimeout)
	defer t.Stop()
	select {
	case <-p.loaded:
	case <-t.C:
		log.Warningf("no data from etcd %v after %s; not ready, still trying", p.cfg.Endpoints, p.cfg.StartupTimeout)
	}
	return nil
}

// Stop ends the watcher. The GeoIP database lives in memory and is left to
// the garbage collector, as queries of a reloading server may still use it.
func (p *NTPPool) Stop() error {
	if p.cancel != nil {
		p.cancel()
		<-p.done
		p.cancel = nil
	}
	return nil
}
