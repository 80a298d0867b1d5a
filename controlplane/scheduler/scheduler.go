// Package scheduler holds two of the leader's jobs (package leader):
// monitor selection for every server (assign.Plan) with candidate rows for
// new monitors, and cleanup: the deletion of servers whose date has come
// and retention of score history, batch ids and expired sessions and
// tokens. Scoring itself happens on ingest (package api); alert emails and
// automatic removal are package alert's jobs.
//
// # Usage
//
//	s := scheduler.New(st, scheduler.Config{Assign: assign.DefaultConfig(), OnChange: pub.Changed})
//	l.Add("monitor selection", leader.Plain(s.RunSelection))
//	l.Add("deletions and retention", leader.Plain(s.RunCleanup))
package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/assign"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

// Config is the scheduler's behaviour; zero fields take the defaults noted.
type Config struct {
	Assign assign.Config
	// Tick is how often the scheduler looks for due work (10s); selection
	// for a server runs every Assign.Reevaluate (ReevaluateAfterChange
	// after a run that changed it).
	Tick time.Duration
	// Retention of score history (0: keep forever) and of batch ids (7 days).
	Retention      time.Duration
	BatchRetention time.Duration
	// CleanupEvery: how often retention and due deletions run (1h).
	CleanupEvery time.Duration
	// OnChange hears about servers whose publication may have changed.
	OnChange func(serverIDs ...int64)
	Now      func() time.Time
	Log      *slog.Logger
}

// Scheduler holds the per-server selection clock.
type Scheduler struct {
	st  *store.Store
	cfg Config
	// next selection run per server (in memory: a new leader simply
	// re-evaluates everything once).
	next map[int64]time.Time
}

// New returns a scheduler over st.
func New(st *store.Store, cfg Config) *Scheduler {
	if cfg.Tick <= 0 {
		cfg.Tick = 10 * time.Second
	}
	if cfg.BatchRetention <= 0 {
		cfg.BatchRetention = 7 * 24 * time.Hour
	}
	if cfg.CleanupEvery <= 0 {
		cfg.CleanupEvery = time.Hour
	}
	if cfg.OnChange == nil {
		cfg.OnChange = func(...int64) {}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{st: st, cfg: cfg, next: map[int64]time.Time{}}
}

// RunSelection runs selection for the servers whose time has come, every
// Tick, until ctx ends (the leader's term). A new term starts with every
// server due.
func (s *Scheduler) RunSelection(ctx context.Context) {
	clear(s.next)
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for {
		if _, err := s.Select(ctx, s.cfg.Now(), false); err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("scheduler: selection", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunCleanup runs Cleanup now and every CleanupEvery until ctx ends.
func (s *Scheduler) RunCleanup(ctx context.Context) {
	t := time.NewTicker(s.cfg.CleanupEvery)
	defer t.Stop()
	for {
		if err := s.Cleanup(ctx, s.cfg.Now()); err != nil && ctx.Err() == nil {
			s.cfg.Log.Error("scheduler: cleanup", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Cleanup marks deleted the servers whose deletion date has come and drops
// history, health buckets and batch ids past retention, and expired
// sessions, email tokens, invitations and lapsed ownership claims.
func (s *Scheduler) Cleanup(ctx context.Context, now time.Time) error {
	ids, err := s.st.DeleteDueServers(ctx, now)
	if err != nil {
		return err
	}
	if len(ids) > 0 {
		s.cfg.Log.Info("scheduler: servers deleted", "count", len(ids))
		s.cfg.OnChange(ids...)
	}
	if s.cfg.Retention > 0 {
		if _, err := s.st.DeleteLogScoresBefore(ctx, now.Add(-s.cfg.Retention)); err != nil {
			return err
		}
	}
	// Health buckets: selection reads one window and an hour back.
	if _, err := s.st.DeletePairHealthBefore(ctx, now.Add(-2*s.cfg.Assign.HealthWindow)); err != nil {
		return err
	}
	if _, err = s.st.DeleteBatchesBefore(ctx, now.Add(-s.cfg.BatchRetention)); err != nil {
		return err
	}
	return s.st.DeleteExpiredWebRows(ctx, now)
}

// Select runs monitor selection for every live server that is due (all
// of them with force) and applies the changes, one transaction per pass.
// It returns the number of changes.
func (s *Scheduler) Select(ctx context.Context, now time.Time, force bool) (int, error) {
	servers, err := s.st.Servers(ctx)
	if err != nil {
		return 0, err
	}
	var due []store.Server
	for _, srv := range servers {
		if force || !now.Before(s.next[srv.ID]) {
			due = append(due, srv)
		}
	}
	if len(due) == 0 {
		return 0, nil
	}
	mons, err := s.st.Monitors(ctx)
	if err != nil {
		return 0, err
	}
	// A range of servers at a time: the pairs of 100,000 servers would
	// hold gigabytes at once.
	n := 0
	for chunk := range slices.Chunk(due, selectChunk) {
		pairs, err := s.st.PairStatusesOf(ctx, now, s.cfg.Assign.HealthWindow, chunk[0].ID, chunk[len(chunk)-1].ID)
		if err != nil {
			return n, err
		}
		c, err := s.applyPlans(ctx, planAll(s.cfg.Assign, chunk, mons, pairs), now)
		n += c
		if err != nil {
			return n, err
		}
	}
	if n > 0 {
		s.cfg.Log.Debug("scheduler: selection changes", "changes", n, "servers", len(due))
	}
	return n, nil
}

// selectChunk is how many servers' pairs a pass holds at once.
const selectChunk = 5000

// applyPlans stores the changes and sets each server's next run.
func (s *Scheduler) applyPlans(ctx context.Context, plans []plan, now time.Time) (int, error) {
	// Apply in transactions of about maxChangesPerTx, so a pass with many
	// changes (a new monitor: one row per server) never holds SQLite's
	// write lock long enough to stall result ingestion.
	n := 0
	for start := 0; start < len(plans); {
		end, size := start, 0
		for end < len(plans) && (size == 0 || size+len(plans[end].changes) <= maxChangesPerTx) {
			size += len(plans[end].changes)
			end++
		}
		err := s.st.InTx(ctx, func(tx *store.Tx) error {
			for _, p := range plans[start:end] {
				for _, c := range p.changes {
					if err := apply(ctx, tx, p.server, c, now); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return n, err
		}
		n += size
		start = end
	}
	for _, p := range plans {
		wait := s.cfg.Assign.Reevaluate
		if len(p.changes) > 0 {
			wait = s.cfg.Assign.ReevaluateAfterChange
		}
		s.next[p.server] = now.Add(wait)
	}
	return n, nil
}

// maxChangesPerTx bounds one transaction of selection changes.
const maxChangesPerTx = 2000

type plan struct {
	server  int64
	changes []assign.Change
}

// planAll builds each due server's monitor view and runs assign.Plan. It
// groups pairs by server through a small index (servers), not a map over
// all pairs, which dominated a pass over 500,000 pairs; pairs of servers
// not in due are ignored.
func planAll(cfg assign.Config, due []store.Server, mons []store.Monitor, pairs []store.PairStatus) []plan {
	at := make(map[int64]int, len(due)) // server id -> index in due
	for i, srv := range due {
		at[srv.ID] = i
	}
	// pairs come by server: each server's run is a subslice, not a copy.
	states := make([][]store.PairStatus, len(due))
	for start := 0; start < len(pairs); {
		end := start + 1
		for end < len(pairs) && pairs[end].ServerID == pairs[start].ServerID {
			end++
		}
		if i, ok := at[pairs[start].ServerID]; ok {
			states[i] = append(states[i], pairs[start:end]...)
		}
		start = end
	}
	monAt := make(map[int64]int, len(mons))
	globals := make([]assign.GlobalState, len(mons))
	for i, m := range mons {
		monAt[m.ID] = i
		globals[i], _ = assign.ParseGlobalState(m.State)
	}
	out := make([]plan, 0, len(due))
	ms := make([]assign.MonitorStatus, len(mons))
	used := make([]bool, len(mons))
	view := make([]assign.MonitorStatus, 0, len(mons)) // Plan keeps none of it
	for i, srv := range due {
		ver := 4
		if srv.IP.Is6() {
			ver = 6
		}
		for j, m := range mons {
			ms[j] = assign.MonitorStatus{ID: m.ID, AccountID: m.AccountID, IP: m.Addr(ver), Global: globals[j], State: score.None}
			used[j] = m.Watches(ver)
		}
		for _, p := range states[i] {
			if j, ok := monAt[p.MonitorID]; ok {
				ms[j].State, _ = score.ParseState(p.State)
				h := p.Health
				ms[j].Health = assign.Health{Points: int(h.Points), AvgStep: h.AvgStep,
					AvgRTT: time.Duration(h.AvgRTT * float64(time.Second))}
			}
		}
		view = view[:0]
		for j := range ms {
			if used[j] {
				view = append(view, ms[j])
			}
		}
		out = append(out, plan{server: srv.ID, changes: assign.Plan(assign.Server{IP: srv.IP, AccountID: srv.AccountID}, view, cfg)})
	}
	return out
}

func apply(ctx context.Context, tx *store.Tx, serverID int64, c assign.Change, now time.Time) error {
	if c.From == score.None {
		_, err := tx.AddMonitorServer(ctx, c.MonitorID, serverID, c.To.String(), now)
		return err
	}
	if err := tx.SetMonitorServerState(ctx, c.MonitorID, serverID, c.To.String()); err != nil {
		return fmt.Errorf("scheduler: %s monitor %d on server %d: %w", c.Reason, c.MonitorID, serverID, err)
	}
	return nil
}
