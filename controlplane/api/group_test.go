package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/monitorapi"
)

// job builds a batch of one result per server for monitor m.
func (f *fixture) job(m store.Monitor, batch string, at time.Time, servers []store.Server) *ingestJob {
	off, rtt := 0.001, 0.002
	res := monitorapi.Results{BatchID: batch}
	for _, s := range servers {
		res.Results = append(res.Results, monitorapi.Result{IP: s.IP, Ticket: ticket(f.api.cfg.TicketKey, m.ID, batch, s.IP),
			Time: at, Offset: &off, RTT: &rtt, Stratum: 2})
	}
	return &ingestJob{m: m, res: res, done: make(chan struct{})}
}

// One transaction holds several monitors' batches: each is acknowledged
// or refused on its own, a replay within the group is a duplicate, and the
// stored rows are those of the accepted batches.
func TestGroupCommitAcksEachBatch(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 3, nil)
	a, b := f.mons["a"], f.mons["b"]
	now := time.Now().Add(-time.Minute)
	if ack, err := f.api.Submit(ctx, b, f.job(b, "0005", now, f.servers[:1]).res); err != nil || ack.Accepted != 1 {
		t.Fatalf("first batch of b: %+v %v", ack, err)
	}
	before := f.logRows(t)
	jobs := []*ingestJob{
		f.job(a, "0001", now, f.servers),                  // accepted
		f.job(b, "0004", now, f.servers),                  // older than b's 0005: refused
		f.job(a, "0001", now, f.servers),                  // replay of the first: duplicate
		f.job(b, "0006", now.Add(time.Second), f.servers), // accepted
	}
	f.api.commitGroup(ctx, jobs)
	for i, want := range []monitorapi.Ack{{BatchID: "0001", Accepted: 3}, {}, {BatchID: "0001", Accepted: 3, Duplicate: true}, {BatchID: "0006", Accepted: 3}} {
		if jobs[i].ack != want {
			t.Errorf("job %d: ack %+v, want %+v (err %v)", i, jobs[i].ack, want, jobs[i].err)
		}
	}
	if e, ok := errors.AsType[*apiError](jobs[1].err); !ok || e.status != http.StatusConflict {
		t.Errorf("older batch: %v, want a 409 refusal", jobs[1].err)
	}
	if jobs[0].err != nil || jobs[2].err != nil || jobs[3].err != nil {
		t.Errorf("errors %v %v %v", jobs[0].err, jobs[2].err, jobs[3].err)
	}
	// 6 probe rows, and 2 overall rows: a's batch scores servers 1 and 2
	// (server 0 was scored at the same time by b's first batch: not newer);
	// b's newer results leave the median (of 2: the older row, a's) as it is.
	if got := f.logRows(t) - before; got != 6+2 {
		t.Errorf("%d history rows stored, want 8", got)
	}
	if p, _ := f.st.MonitorServer(ctx, b.ID, f.servers[2].ID); p.LastProbe.IsZero() {
		t.Error("b's accepted batch left no score")
	}
	if m, _ := f.st.Monitor(ctx, b.ID); m.LastBatchID != "0006" {
		t.Errorf("b's last batch %q, want 0006", m.LastBatchID)
	}
}

// Many monitors submitting at once: every batch is stored once and
// acknowledged after its commit, in fewer commits than batches when they
// overlap.
func TestConcurrentSubmitsAllStored(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 10, nil)
	var mons []store.Monitor
	for i := range 8 {
		id, err := f.st.CreateMonitor(ctx, store.Monitor{Name: fmt.Sprint("c", i), TokenHash: fmt.Sprint("c", i), State: store.MonitorActive})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range f.servers {
			f.st.AddMonitorServer(ctx, id, s.ID, store.PairActive, time.Now())
		}
		m, _ := f.st.Monitor(ctx, id)
		mons = append(mons, m)
	}
	before := f.logRows(t)
	var wg sync.WaitGroup
	for _, m := range mons {
		wg.Go(func() {
			for k := range 20 {
				j := f.job(m, fmt.Sprintf("%04d", k+1), time.Now(), f.servers)
				if ack, err := f.api.Submit(ctx, m, j.res); err != nil || ack.Accepted != 10 || ack.Duplicate {
					t.Errorf("monitor %d batch %d: %+v %v", m.ID, k, ack, err)
					return
				}
			}
		})
	}
	wg.Wait()
	st := f.api.Stats()
	if st.Batches.Load() != 160 || st.Results.Load() != 1600 {
		t.Fatalf("stats: %d batches, %d results; want 160, 1600", st.Batches.Load(), st.Results.Load())
	}
	t.Logf("%d batches in %d commits", st.Batches.Load(), st.Commits.Load())
	if got := f.logRows(t) - before; got < 1600 {
		t.Fatalf("%d history rows, want at least the 1600 probes", got)
	}
	for _, m := range mons {
		if got, _ := f.st.Monitor(ctx, m.ID); got.LastBatchID != "0020" {
			t.Errorf("monitor %d last batch %q", m.ID, got.LastBatchID)
		}
	}
}

// The committer's pair cache is exact only while no other connection
// writes: a pair's score changed from outside between two batches is the
// one the next result scores from.
func TestPairCacheSeesOtherWriters(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 1, nil)
	a, srv := f.mons["a"], f.servers[0]
	now := time.Now().Add(-time.Minute)
	if _, err := f.api.Submit(ctx, a, f.job(a, "0001", now, f.servers).res); err != nil {
		t.Fatal(err)
	}
	// Another writer (here the store's own pool, as another instance or
	// the web UI would) sets the pair's score.
	if err := f.st.RecordProbes(ctx, []store.ProbeUpdate{{MonitorID: a.ID, ServerID: srv.ID, Score: -50,
		Time: now.Add(time.Second)}}, f.api.cfg.Assign.HealthWindow); err != nil {
		t.Fatal(err)
	}
	j := f.job(a, "0002", now.Add(2*time.Second), f.servers)
	if _, err := f.api.Submit(ctx, a, j.res); err != nil {
		t.Fatal(err)
	}
	want := f.api.cfg.Score.Next(-50, f.api.cfg.Score.Step(score.FromResult(j.res.Results[0])))
	if p, _ := f.st.MonitorServer(ctx, a.ID, srv.ID); p.Score != want {
		t.Errorf("pair score %v after the outside change, want %v (scored from the cached score?)", p.Score, want)
	}
}
