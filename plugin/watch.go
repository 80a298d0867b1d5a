package ntppool

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/ntppool-ng/ntppool/record"
)

// Watcher tuning; fields of Config where a test needs them faster.
const (
	pageSize     = 2000
	opTimeout    = 3 * time.Second
	probeTimeout = 2 * time.Second
	minBackoff   = 100 * time.Millisecond
	maxBackoff   = 5 * time.Second
)

var (
	errWatchClosed = errors.New("ntppool: watch channel closed")
	errReconnected = errors.New("ntppool: etcd reachable again, resynchronising")
)

// poolState is the decoded content of the prefix, kept between indexes,
// and the changes not yet in an index.
type poolState struct {
	prefix  string
	rev     int64
	servers map[string]record.Server // by key id (the IP)
	vendors map[string]record.Vendor // by name

	pending        []serverChange // server changes since the last index, in order
	vendorsChanged bool
}

func newPoolState(prefix string) *poolState {
	return &poolState{prefix: prefix, servers: map[string]record.Server{}, vendors: map[string]record.Vendor{}}
}

// apply puts one key's new value (or its deletion) into the state. A value
// that does not decode removes the key, as if it were absent, and is counted.
func (st *poolState) apply(kv *mvccpb.KeyValue, deleted bool) {
	kind, id := record.ParseKey(st.prefix, string(kv.Key))
	switch kind {
	case record.KindServer:
		old, had := st.servers[id]
		applyValue(st.servers, id, kv, deleted, record.DecodeServer)
		cur, has := st.servers[id]
		if had || has {
			var c serverChange
			if had {
				c.old = &old
			}
			if has {
				c.new = &cur
			}
			st.pending = append(st.pending, c)
		}
	case record.KindVendor:
		applyValue(st.vendors, id, kv, deleted, record.DecodeVendor)
		st.vendorsChanged = true
	}
}

func applyValue[T any](m map[string]T, id string, kv *mvccpb.KeyValue, deleted bool, decode func(string, []byte) (T, error)) {
	delete(m, id)
	if deleted {
		return
	}
	v, err := decode(string(kv.Key), kv.Value)
	if err != nil {
		skipped(err)
		return
	}
	m[id] = v
}

func skipped(err error) {
	reason := "malformed"
	switch {
	case errors.Is(err, record.ErrNewerVersion):
		reason = "newer_version"
	case errors.Is(err, record.ErrInvalid):
		reason = "invalid"
	}
	skippedRecords.WithLabelValues(reason).Inc()
	log.Warningf("skipping record: %v", err)
}

// fullBuildShare: a batch changing more than 1/fullBuildShare of the
// servers is cheaper to build from scratch than to apply change by change.
const fullBuildShare = 8

// next returns the index of the state for the subset period containing
// now, and the zones that differ from cur (nil: all of them). It applies
// the pending changes to cur; a first load, a new period (every rank key
// changes) or a batch touching much of the pool builds a new index instead.
func (st *poolState) next(cur *index, now time.Time, period time.Duration) (*index, []*zone) {
	if cur == nil || cur.period != periodNumber(now, period) || len(st.pending) > len(st.servers)/fullBuildShare+64 {
		return st.build(now, period), nil
	}
	var vendors map[string]record.Vendor
	if st.vendorsChanged {
		vendors = maps.Clone(st.vendors)
	}
	ix, touched := cur.update(st.pending, vendors, st.rev)
	clear(st.pending)
	st.pending, st.vendorsChanged = st.pending[:0], false
	return ix, touched
}

// build makes an index of the state for the subset period containing now.
func (st *poolState) build(now time.Time, period time.Duration) *index {
	clear(st.pending)
	st.pending, st.vendorsChanged = st.pending[:0], false
	servers := make([]record.Server, 0, len(st.servers))
	for _, s := range st.servers {
		servers = append(servers, s)
	}
	vendors := make([]record.Vendor, 0, len(st.vendors))
	for _, v := range st.vendors {
		vendors = append(vendors, v)
	}
	return buildIndex(servers, vendors, st.rev, periodNumber(now, period))
}

// run keeps the index in step with etcd until ctx ends: connect, load,
// watch; on any failure wait with back-off and start over, serving the last
// index meanwhile.
func (p *NTPPool) run(ctx context.Context) {
	var cli *clientv3.Client
	defer func() {
		if cli != nil {
			cli.Close()
		}
	}()
	backoff := minBackoff
	failing := false
	for ctx.Err() == nil {
		var err error
		if cli == nil {
			cli, err = p.newClient()
			if err != nil {
				cli = nil
				err = fmt.Errorf("connect: %w", err)
			}
		}
		if err == nil {
			err = p.sync(ctx, cli, func() {
				backoff = minBackoff
				if failing {
					log.Infof("etcd %v: loaded again", p.cfg.Endpoints)
					failing = false
				}
			})
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errReconnected) {
			continue
		}
		etcdErrors.WithLabelValues(errOp(err)).Inc()
		// A new client reconnects at once; the old one's gRPC back-off could
		// keep it away from a recovered etcd for seconds.
		if cli != nil {
			cli.Close()
			cli = nil
		}
		if !failing {
			// Log once per outage; the metric counts every failure.
			log.Errorf("etcd %v: %v; serving the last data and retrying", p.cfg.Endpoints, err)
			failing = true
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// errOp names the failed operation for the etcd errors metric.
func errOp(err error) string {
	var op opError
	if errors.As(err, &op) {
		return string(op)
	}
	return "watch"
}

// opError tags an error with the etcd operation that failed.
type opError string

func (e opError) Error() string { return string(e) }

func (p *NTPPool) newClient() (*clientv3.Client, error) {
	return clientv3.New(clientv3.Config{
		Endpoints:   p.cfg.Endpoints,
		TLS:         p.cfg.TLS,
		Username:    p.cfg.Username,
		Password:    p.cfg.Password,
		DialTimeout: probeTimeout,
		Logger:      zap.NewNop(),
	})
}

// load reads the whole prefix in pages pinned at one revision.
func (p *NTPPool) load(ctx context.Context, cli *clientv3.Client) (*poolState, error) {
	st := newPoolState(p.cfg.Prefix)
	key, end := p.cfg.Prefix, clientv3.GetPrefixRangeEnd(p.cfg.Prefix)
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(pageSize)}
		if st.rev != 0 {
			opts = append(opts, clientv3.WithRev(st.rev))
		}
		gctx, cancel := context.WithTimeout(ctx, opTimeout)
		resp, err := cli.Get(gctx, key, opts...)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("%w: get %s: %w", opError("get"), p.cfg.Prefix, err)
		}
		if st.rev == 0 {
			st.rev = resp.Header.Revision
		}
		for _, kv := range resp.Kvs {
			st.apply(kv, false)
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return st, nil
		}
		key = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// sync loads the prefix, publishes it, then follows the watch until an error
// (compaction included) asks for a full resynchronisation.
func (p *NTPPool) sync(ctx context.Context, cli *clientv3.Client, loaded func()) error {
	st, err := p.load(ctx, cli)
	if err != nil {
		return err
	}
	cur := st.build(time.Now(), p.cfg.Period)
	p.setIndex(cur)
	loaded()
	if p.afterLoad != nil {
		p.afterLoad(cli)
	}

	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	defer cancel()
	wch := cli.Watch(wctx, p.cfg.Prefix, clientv3.WithPrefix(), clientv3.WithRev(st.rev+1), clientv3.WithProgressNotify())

	// Changes are published at once, unless the last index went out less
	// than Debounce ago: then they are batched until Debounce has passed.
	// A lone change is in answers within a millisecond or two, and a burst
	// still makes at most one index per Debounce.
	lastPublish := time.Now()
	publish := func() {
		var touched []*zone
		cur, touched = st.next(cur, time.Now(), p.cfg.Period)
		p.publish(cur, touched)
		lastPublish = time.Now()
	}
	throttle := time.NewTimer(time.Hour)
	throttle.Stop()
	waiting := false
	period := time.NewTimer(untilNextPeriod(time.Now(), p.cfg.Period))
	defer period.Stop()
	probe := time.NewTicker(p.cfg.HealthInterval)
	defer probe.Stop()
	unreachable := false

	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case wresp, ok := <-wch:
			if !ok {
				return errWatchClosed
			}
			if err := wresp.Err(); err != nil {
				if wresp.CompactRevision != 0 {
					return fmt.Errorf("watch compacted at %d: %w", wresp.CompactRevision, err)
				}
				return fmt.Errorf("watch: %w", err)
			}
			if wresp.IsProgressNotify() {
				continue
			}
			for _, ev := range wresp.Events {
				st.apply(ev.Kv, ev.Type == clientv3.EventTypeDelete)
				st.rev = max(st.rev, ev.Kv.ModRevision)
			}
			st.rev = max(st.rev, wresp.Header.Revision)
			if waiting {
				continue
			}
			if wait := p.cfg.Debounce - time.Since(lastPublish); wait > 0 {
				waiting = true
				throttle.Reset(wait)
				continue
			}
			publish()
		case <-throttle.C:
			waiting = false
			publish()
		case <-period.C:
			if cur.period != periodNumber(time.Now(), p.cfg.Period) {
				publish()
			}
			period.Reset(untilNextPeriod(time.Now(), p.cfg.Period))
		case <-probe.C:
			// The watch alone does not notice a vanished etcd: the client
			// retries silently. A cheap read tells, and once it works again
			// a full resync catches up on anything missed.
			pctx, pcancel := context.WithTimeout(ctx, probeTimeout)
			_, err := cli.Get(pctx, p.cfg.Prefix, clientv3.WithCountOnly())
			pcancel()
			switch {
			case err != nil && !unreachable:
				unreachable = true
				etcdErrors.WithLabelValues("probe").Inc()
				log.Errorf("etcd %v unreachable: %v; serving the last data", p.cfg.Endpoints, err)
			case err != nil:
				etcdErrors.WithLabelValues("probe").Inc()
			case unreachable:
				return errReconnected
			}
		}
	}
}

// untilNextPeriod is the time from now to the next subset reshuffle.
func untilNextPeriod(now time.Time, period time.Duration) time.Duration {
	if period <= 0 {
		return 24 * time.Hour
	}
	next := (periodNumber(now, period) + 1) * int64(period)
	return time.Duration(next-now.UnixNano()) + time.Millisecond
}
