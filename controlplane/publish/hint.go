package publish

import (
	"context"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Change hints: a score ingested or a server edited on an instance that
// does not lead must reach the leader's publisher, or it would wait for the
// next Recheck. Forward, on every instance, puts the changed server ids
// into one etcd key while the instance does not lead; the leader's Lead
// watches that key. A lost hint costs only latency: Recheck still finds
// every change.

// allHint asks the leader to recompute everything.
const allHint = "*"

// maxHintIDs bounds one hint; more changes at once are sent as allHint.
const maxHintIDs = 10000

// Forward sends this instance's changes to the leader while it does not
// lead, until ctx ends. Run it on every instance beside the leader's jobs.
func (p *Publisher) Forward(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-p.fwd:
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(p.cfg.Debounce):
		}
		if p.leading.Load() {
			continue // Lead takes the changes itself
		}
		p.mu.Lock()
		ids, all := slices.Sorted(maps.Keys(p.dirty)), p.all
		p.dirty, p.all = map[int64]bool{}, false
		p.mu.Unlock()
		if len(ids) == 0 && !all {
			continue
		}
		hint := allHint
		if !all && len(ids) <= maxHintIDs {
			parts := make([]string, len(ids))
			for i, id := range ids {
				parts[i] = strconv.FormatInt(id, 10)
			}
			hint = strings.Join(parts, ",")
		}
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if _, err := p.cli.Put(pctx, p.cfg.HintKey, hint); err != nil && ctx.Err() == nil {
			p.cfg.Log.Warn("publisher: change hint not sent; the leader's recheck will find it", "err", err)
		}
		cancel()
	}
}

// takeHint applies a hint another instance forwarded.
func (p *Publisher) takeHint(v string) {
	if v == allHint {
		p.ChangedAll()
		return
	}
	var ids []int64
	for s := range strings.SplitSeq(v, ",") {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	p.Changed(ids...)
}

// hints watches the hint key; nil when ctx ends.
func (p *Publisher) hints(ctx context.Context) clientv3.WatchChan {
	return p.cli.Watch(clientv3.WithRequireLeader(ctx), p.cfg.HintKey)
}
