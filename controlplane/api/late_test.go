package api

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/monitorapi"
)

// TestLateBatchDoesNotMoveOverallScore: three active monitors score one
// server; a batch whose result is older than the server's last overall
// score moves its monitor's score but not the overall one, and the next
// timely result takes the late row into the median. Values as the pool
// computes them: step +1 at 1 ms, -6.667 x 0.05 + 1.167 = 0.83365 at 50 ms,
// -2.308 x 0.2 + 0.731 = 0.2694 at 200 ms, -2.308 x 0.5 + 0.731 = -0.423 at
// 500 ms; score = 0.95 x old + step.
func TestLateBatchDoesNotMoveOverallScore(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, 1, nil)
	srv := f.servers[0]
	cid, err := f.st.CreateMonitor(ctx, store.Monitor{Name: "c", TokenHash: store.HashToken("tok-c"), State: store.MonitorActive})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.AddMonitorServer(ctx, cid, srv.ID, store.PairActive, time.Now()); err != nil {
		t.Fatal(err)
	}
	mons := map[string]store.Monitor{"a": f.mons["a"], "b": f.mons["b"]}
	mons["c"], _ = f.st.Monitor(ctx, cid)
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	rtt := 0.002
	submit := func(mon, batch string, at time.Duration, offset float64) {
		t.Helper()
		m := mons[mon]
		off := offset
		res := monitorapi.Results{BatchID: batch, Results: []monitorapi.Result{{IP: srv.IP,
			Ticket: ticket(f.api.cfg.TicketKey, m.ID, batch, srv.IP), Time: t0.Add(at), Offset: &off, RTT: &rtt, Stratum: 2}}}
		if ack, err := f.api.Submit(ctx, m, res); err != nil || ack.Accepted != 1 || ack.Duplicate {
			t.Fatalf("submit %s %s: %+v, %v", mon, batch, ack, err)
		}
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	overall := func() (float64, time.Time) {
		t.Helper()
		s, err := f.st.Server(ctx, srv.ID)
		if err != nil {
			t.Fatal(err)
		}
		return s.Score, s.LastScoreUpdate
	}
	overallRows := func() []store.LogRow {
		t.Helper()
		rows, err := f.st.ScoreLog(ctx, store.LogQuery{ServerID: srv.ID, Monitor: store.LogOverall, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return rows // newest first
	}
	pair := func(mon string) float64 {
		t.Helper()
		p, err := f.st.MonitorServer(ctx, mons[mon].ID, srv.ID)
		if err != nil {
			t.Fatal(err)
		}
		return p.Score
	}

	submit("a", "0001", 1*time.Minute, 0.001) // a = 1
	submit("b", "0001", 3*time.Minute, 0.050) // b = 0.83365
	submit("c", "0001", 5*time.Minute, 0.200) // c = 0.2694
	// Median of 0.2694, 0.83365, 1 is b's row, and so is the step.
	score, at := overall()
	if !near(score, 0.83365) || !at.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("overall score %v at %v, want 0.83365 at t0+5m", score, at)
	}
	rows := overallRows()
	if len(rows) != 2 || !near(rows[0].Score, 0.83365) || !near(rows[0].Step, 0.83365) || !near(rows[1].Step, 1) {
		t.Fatalf("overall rows %+v, want 1 (step 1) then 0.83365 (step 0.83365: b's)", rows)
	}

	// A late batch: a's result of t0+4m, after the overall score of t0+5m.
	submit("a", "0002", 4*time.Minute, 0.500)
	if got := pair("a"); !near(got, 0.527) {
		t.Fatalf("monitor a's score %v, want 0.95 x 1 - 0.423 = 0.527", got)
	}
	if score, at := overall(); !near(score, 0.83365) || !at.Equal(t0.Add(5*time.Minute)) {
		t.Fatalf("late batch moved the overall score to %v at %v", score, at)
	}
	if n := len(overallRows()); n != 2 {
		t.Fatalf("late batch added an overall row: %d rows", n)
	}

	// The next timely result: b = 0.95 x 0.83365 + 1 = 1.7919675; the median
	// of 0.2694, 0.527, 1.7919675 is a's late row, with its step.
	submit("b", "0002", 6*time.Minute, 0.001)
	if score, at := overall(); !near(score, 0.527) || !at.Equal(t0.Add(6*time.Minute)) {
		t.Fatalf("overall score %v at %v, want 0.527 at t0+6m", score, at)
	}
	if rows := overallRows(); len(rows) != 3 || !near(rows[0].Score, 0.527) || !near(rows[0].Step, -0.423) {
		t.Fatalf("overall rows %+v, want 0.527 with step -0.423 (a's)", rows)
	}
}
