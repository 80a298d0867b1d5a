package scheduler

import (
	"context"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/assign"
	"github.com/ntppool-ng/ntppool/controlplane/store"
)

func setup(t *testing.T) (*store.Store, int64, []int64) {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	sid, err := st.CreateServer(ctx, store.Server{IP: netip.MustParseAddr("127.0.0.2"), Netspeed: 1000, InPool: true})
	if err != nil {
		t.Fatal(err)
	}
	var mons []int64
	for _, name := range []string{"m1", "m2", "m3"} {
		id, err := st.CreateMonitor(ctx, store.Monitor{Name: name, TokenHash: name, State: store.MonitorActive,
			IP4: netip.MustParseAddr("127.0.0.1")})
		if err != nil {
			t.Fatal(err)
		}
		mons = append(mons, id)
	}
	return st, sid, mons
}

func states(t *testing.T, st *store.Store, sid int64) map[int64]string {
	ps, err := st.ServerPairs(context.Background(), sid)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int64]string{}
	for _, p := range ps {
		out[p.MonitorID] = p.State
	}
	return out
}

func TestSelectionPromotesHealthyMonitors(t *testing.T) {
	ctx := context.Background()
	st, sid, mons := setup(t)
	cfg := assign.Local()
	cfg.TargetActive, cfg.TargetTesting = 2, 1
	cfg.MinPointsTesting, cfg.MinPointsActive = 2, 4
	now := time.Now()
	s := New(st, Config{Assign: cfg, Now: func() time.Time { return now }})

	if _, err := s.Select(ctx, now, true); err != nil {
		t.Fatal(err)
	}
	got := states(t, st, sid)
	// No testing monitor: the bootstrap makes all three testing at once.
	if len(got) != 3 || got[mons[0]] != store.PairTesting || got[mons[2]] != store.PairTesting {
		t.Fatalf("after the first run %v, want every monitor testing", got)
	}
	// Healthy data for every monitor: candidates become testing, then active.
	for i, m := range mons {
		for k := range 5 {
			rtt := 0.001 * float64(i+1)
			err := st.RecordProbes(ctx, []store.ProbeUpdate{{MonitorID: m, ServerID: sid, Score: 5, Step: 1,
				Time: now.Add(-time.Duration(k) * time.Second), RTT: &rtt}}, cfg.HealthWindow)
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	for range 3 {
		if _, err := s.Select(ctx, now, true); err != nil {
			t.Fatal(err)
		}
	}
	got = states(t, st, sid)
	active := 0
	for _, v := range got {
		if v == store.PairActive {
			active++
		}
	}
	if active != 2 || got[mons[0]] != store.PairActive || got[mons[1]] != store.PairActive {
		t.Fatalf("states %v, want the two lowest-RTT monitors active", got)
	}
}

func TestSelectWaitsForReevaluate(t *testing.T) {
	ctx := context.Background()
	st, _, _ := setup(t)
	cfg := assign.Local()
	now := time.Now()
	s := New(st, Config{Assign: cfg})
	if n, _ := s.Select(ctx, now, false); n != 3 {
		t.Fatalf("first run: %d changes, want 3 new candidates", n)
	}
	st.CreateMonitor(ctx, store.Monitor{Name: "m4", TokenHash: "m4", State: store.MonitorActive})
	if n, _ := s.Select(ctx, now.Add(time.Minute), false); n != 0 {
		t.Fatalf("run before ReevaluateAfterChange: %d changes", n)
	}
	if n, _ := s.Select(ctx, now.Add(cfg.ReevaluateAfterChange), false); n != 1 {
		t.Fatalf("run after ReevaluateAfterChange: %d changes, want the new monitor", n)
	}
}

func TestCleanupDeletesDueServersAndOldHistory(t *testing.T) {
	ctx := context.Background()
	st, sid, mons := setup(t)
	now := time.Now()
	st.SetServerDeletion(ctx, 0, sid, now.Add(-time.Minute))
	st.AddLogScore(ctx, store.LogScore{ServerID: sid, MonitorID: mons[0], Time: now.Add(-48 * time.Hour), Score: 1})
	st.AddLogScore(ctx, store.LogScore{ServerID: sid, MonitorID: mons[0], Time: now, Score: 1})
	st.AddMonitorServer(ctx, mons[0], sid, store.PairActive, now)
	for _, at := range []time.Time{now.Add(-49 * time.Hour), now} {
		if err := st.RecordProbes(ctx, []store.ProbeUpdate{{MonitorID: mons[0], ServerID: sid, Step: 1, Time: at}}, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	var told []int64
	s := New(st, Config{Assign: assign.Local(), Retention: 24 * time.Hour, OnChange: func(ids ...int64) { told = append(told, ids...) }})
	if err := s.Cleanup(ctx, now); err != nil {
		t.Fatal(err)
	}
	if len(told) != 1 || told[0] != sid {
		t.Fatalf("OnChange got %v", told)
	}
	if srv, _ := st.Server(ctx, sid); srv.DeletedAt.IsZero() {
		t.Fatal("due server not deleted")
	}
	if n, _ := st.CountLogScores(ctx); n != 1 {
		t.Fatalf("%d history rows after retention, want 1", n)
	}
	// The health bucket of 49 hours ago is gone, the current one stays.
	if n, err := st.DeletePairHealthBefore(ctx, now.Add(-48*time.Hour)); err != nil || n != 0 {
		t.Fatalf("health buckets left past retention: %d, %v", n, err)
	}
	if ps, _ := st.PairStatuses(ctx, now, 24*time.Hour); len(ps) != 1 || ps[0].Health.Points != 1 {
		t.Fatalf("pair health after retention: %+v", ps)
	}
}
