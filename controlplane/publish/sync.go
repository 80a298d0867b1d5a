package publish

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ntppool-ng/ntppool/controlplane/leader"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/record"
)

// maxOps stays below etcd's default --max-txn-ops (128).
const maxOps = 100

// Lead is the publisher's leader job: it resyncs, then writes changes
// until ctx ends (the term is over). A failed or fenced-off write ends
// the term.
func (p *Publisher) Lead(ctx context.Context, f leader.Fence) error {
	p.mu.Lock()
	p.dirty, p.all = map[int64]bool{}, false
	p.mu.Unlock()
	if err := p.resync(ctx, f); err != nil {
		return err
	}
	tick := time.NewTicker(p.cfg.Recheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			p.ChangedAll()
		case <-p.kick:
			// Gather what else changes in the next moment into one write.
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(p.cfg.Debounce):
			}
			if err := p.flush(ctx, f); err != nil {
				return err
			}
		}
	}
}

// resync makes etcd under the prefix exactly the desired set.
func (p *Publisher) resync(ctx context.Context, f leader.Fence) error {
	want, err := p.desired(ctx)
	if err != nil {
		return err
	}
	resp, err := p.cli.Get(ctx, p.cfg.Prefix, clientv3.WithPrefix())
	if err != nil {
		return fmt.Errorf("publish: resync read: %w", err)
	}
	have := make(map[string]string, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		have[string(kv.Key)] = string(kv.Value)
	}
	p.written = have
	if err := p.apply(ctx, f, want, true); err != nil {
		return err
	}
	p.cfg.Log.Info("publisher: resynced", "records", len(want))
	return nil
}

// flush writes what changed since the last write.
func (p *Publisher) flush(ctx context.Context, f leader.Fence) error {
	p.mu.Lock()
	ids, all := p.dirty, p.all
	p.dirty, p.all = map[int64]bool{}, false
	p.mu.Unlock()
	if all {
		want, err := p.desired(ctx)
		if err != nil {
			return err
		}
		return p.apply(ctx, f, want, true)
	}
	want := make(map[string]string, len(ids))
	var gone []string
	list := slices.Collect(maps.Keys(ids))
	var servers []store.Server
	// Read in chunks: SQLite binds at most 32766 parameters per statement.
	for len(list) > 0 {
		n := min(len(list), 500)
		got, err := p.src.ServersByID(ctx, list[:n])
		if err != nil {
			return fmt.Errorf("publish: read %d servers: %w", n, err)
		}
		servers = append(servers, got...)
		list = list[n:]
	}
	// A server gone from the store entirely is removed by the next full
	// recheck.
	for _, s := range servers {
		k, v, ok := p.serverRecord(s)
		if ok {
			want[k] = v
		} else {
			gone = append(gone, record.ServerKey(p.cfg.Prefix, s.IP))
		}
	}
	for _, k := range gone {
		if _, ok := want[k]; !ok {
			want[k] = "" // "" marks a delete in apply
		}
	}
	return p.apply(ctx, f, want, false)
}

// apply writes the difference between want and what was written. With
// full set, keys not in want are deleted; otherwise "" values mark deletes.
func (p *Publisher) apply(ctx context.Context, f leader.Fence, want map[string]string, full bool) error {
	var ops []clientv3.Op
	next := maps.Clone(p.written)
	for k, v := range want {
		old, had := p.written[k]
		switch {
		case v == "" && had:
			ops = append(ops, clientv3.OpDelete(k))
			delete(next, k)
		case v != "" && (!had || old != v):
			ops = append(ops, clientv3.OpPut(k, v))
			next[k] = v
		}
	}
	if full {
		for k := range p.written {
			if _, ok := want[k]; !ok {
				ops = append(ops, clientv3.OpDelete(k))
				delete(next, k)
			}
		}
	}
	for len(ops) > 0 {
		n := min(len(ops), maxOps)
		if err := p.write(ctx, f, ops[:n]); err != nil {
			// Unknown state: the next term resyncs from etcd.
			return err
		}
		ops = ops[n:]
	}
	p.written = next
	return nil
}

// write commits ops in one transaction, only while f still holds.
func (p *Publisher) write(ctx context.Context, f leader.Fence, ops []clientv3.Op) error {
	resp, err := p.cli.Txn(ctx).
		If(f.Cmp()).
		Then(ops...).
		Commit()
	if err != nil {
		return fmt.Errorf("publish: write %d ops: %w", len(ops), err)
	}
	if !resp.Succeeded {
		return ErrNotLeader
	}
	p.writes.Add(1)
	return nil
}

// desired is every record the store says should be in etcd.
func (p *Publisher) desired(ctx context.Context) (map[string]string, error) {
	servers, err := p.src.Servers(ctx)
	if err != nil {
		return nil, fmt.Errorf("publish: list servers: %w", err)
	}
	out := make(map[string]string, len(servers))
	for _, s := range servers {
		if k, v, ok := p.serverRecord(s); ok {
			out[k] = v
		}
	}
	vendors, err := p.src.VendorZones(ctx, store.VendorApproved)
	if err != nil {
		return nil, fmt.Errorf("publish: list vendor zones: %w", err)
	}
	for _, vz := range vendors {
		val, err := record.EncodeVendor(record.Vendor{Name: vz.Name, ClientType: record.ClientType(vz.ClientType)})
		if err != nil {
			p.cfg.Log.Warn("publisher: vendor zone not publishable", "name", vz.Name, "err", err)
			continue
		}
		out[record.VendorKey(p.cfg.Prefix, vz.Name)] = string(val)
	}
	return out, nil
}

// serverRecord is the server's key and value when it belongs in the DNS.
func (p *Publisher) serverRecord(s store.Server) (string, string, bool) {
	if !s.DeletedAt.IsZero() || !s.InPool {
		return "", "", false
	}
	w := p.cfg.Score.Weight(p.cfg.Now(), score.Server{Score: s.Score, NetSpeed: s.Netspeed, Deletion: s.DeletionOn})
	if w <= 0 {
		return "", "", false
	}
	cc := s.Zone()
	if !record.ValidCountry(cc) {
		cc = ""
	}
	val, err := record.EncodeServer(record.Server{IP: s.IP, Weight: w, Country: cc})
	if err != nil {
		p.cfg.Log.Warn("publisher: server not publishable", "ip", s.IP, "err", err)
		return "", "", false
	}
	return record.ServerKey(p.cfg.Prefix, s.IP), string(val), true
}
