package store

import (
	"context"
	"math"
	"net/netip"
	"testing"
	"time"
)

// TestHealthIsExactOverTheWindow: probes land in hourly buckets (a 24th
// of the window); reading sums the current bucket and the 24 before it,
// exactly, and retention drops old buckets.
func TestHealthIsExactOverTheWindow(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, st *Store) {
		sid, _ := st.CreateServer(ctx, Server{IP: netip.MustParseAddr("192.0.2.1"), InPool: true})
		mid, _ := st.CreateMonitor(ctx, Monitor{Name: "m", TokenHash: "h"})
		st.AddMonitorServer(ctx, mid, sid, PairActive, time.Now())
		const w = 24 * time.Hour
		h0 := time.UnixMilli(1_000 * time.Hour.Milliseconds()) // an hour boundary
		probe := func(at time.Time, step float64, rtt *float64) {
			t.Helper()
			if err := st.RecordProbes(ctx, []ProbeUpdate{{MonitorID: mid, ServerID: sid, Score: 1, Step: step, Time: at, RTT: rtt}}, w); err != nil {
				t.Fatal(err)
			}
		}
		health := func(now time.Time) Health {
			t.Helper()
			ps, err := st.PairStatuses(ctx, now, w)
			if err != nil || len(ps) != 1 {
				t.Fatalf("PairStatuses: %v %v", ps, err)
			}
			return ps[0].Health
		}
		near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
		r := func(v float64) *float64 { return &v }

		probe(h0.Add(10*time.Minute), 1, r(0.010))
		probe(h0.Add(20*time.Minute), -1, r(0.030))
		probe(h0.Add(30*time.Minute), 1, nil) // no RTT: left out of its average
		if h := health(h0.Add(40 * time.Minute)); h.Points != 3 || !near(h.AvgStep, 1.0/3) || !near(h.AvgRTT, 0.020) {
			t.Fatalf("one bucket: %+v", h)
		}
		// 23 hours later, one more probe: every probe still counts.
		probe(h0.Add(23*time.Hour), 0.5, r(0.050))
		if h := health(h0.Add(23*time.Hour + 59*time.Minute)); h.Points != 4 || !near(h.AvgStep, 1.5/4) || !near(h.AvgRTT, 0.030) {
			t.Fatalf("a day of buckets: %+v", h)
		}
		// 24 h after the first bucket ends, it still counts (the window read
		// covers the current hour and 24 before it); an hour later it is gone.
		if h := health(h0.Add(24*time.Hour + 59*time.Minute)); h.Points != 4 {
			t.Fatalf("25th hour: %+v", h)
		}
		if h := health(h0.Add(25 * time.Hour)); h.Points != 1 || !near(h.AvgStep, 0.5) || !near(h.AvgRTT, 0.050) {
			t.Fatalf("first bucket out of the window: %+v", h)
		}
		if h := health(h0.Add(48 * time.Hour)); h.Points != 0 || h.AvgStep != 0 || h.AvgRTT != 0 {
			t.Fatalf("two days later: %+v", h)
		}
		// Retention drops the buckets before its time, no more.
		if n, err := st.DeletePairHealthBefore(ctx, h0.Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("DeletePairHealthBefore = %d, %v; want 1 bucket", n, err)
		}
		if h := health(h0.Add(23 * time.Hour)); h.Points != 1 {
			t.Fatalf("after retention: %+v", h)
		}
		// Several probes of one bucket in one call add up.
		err := st.RecordProbes(ctx, []ProbeUpdate{
			{MonitorID: mid, ServerID: sid, Step: 1, Time: h0.Add(23*time.Hour + time.Minute)},
			{MonitorID: mid, ServerID: sid, Step: 1, Time: h0.Add(23*time.Hour + 2*time.Minute)},
		}, w)
		if err != nil {
			t.Fatal(err)
		}
		if h := health(h0.Add(23 * time.Hour)); h.Points != 3 || !near(h.AvgStep, 2.5/3) {
			t.Fatalf("two probes in one call: %+v", h)
		}
	})
}
