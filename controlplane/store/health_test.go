package store

import (
	"context"
	"math"
	"net/netip"
	"testing"
	"time"
)

// TestHealthBucketsSlide: probes land in window-aligned buckets; reading
// counts the previous bucket by its share still inside the window, and
// forgets anything older.
func TestHealthBucketsSlide(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, st *Store) {
		sid, _ := st.CreateServer(ctx, Server{IP: netip.MustParseAddr("192.0.2.1"), InPool: true})
		mid, _ := st.CreateMonitor(ctx, Monitor{Name: "m", TokenHash: "h"})
		st.AddMonitorServer(ctx, mid, sid, PairActive, time.Now())
		const w = time.Hour
		b0 := time.UnixMilli(1_000 * w.Milliseconds()) // a bucket boundary
		probe := func(at time.Time, step, rtt float64) {
			t.Helper()
			if err := st.RecordProbes(ctx, mid, []ProbeUpdate{{ServerID: sid, Score: 1, Step: step, Time: at, RTT: &rtt}}, w); err != nil {
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
		near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

		probe(b0.Add(10*time.Minute), 1, 0.010)
		probe(b0.Add(20*time.Minute), -1, 0.030)
		if h := health(b0.Add(30 * time.Minute)); !near(h.Points, 2) || !near(h.AvgStep, 0) || !near(h.AvgRTT, 0.020) {
			t.Fatalf("same bucket: %+v", h)
		}
		// Next bucket, a quarter in: the old bucket counts three quarters.
		probe(b0.Add(w+5*time.Minute), 1, 0.040)
		h := health(b0.Add(w + 15*time.Minute))
		if !near(h.Points, 1+2*0.75) || !near(h.AvgStep, (1+0*0.75)/(1+1.5)) || !near(h.AvgRTT, (0.040+0.040*0.75)/(1+1.5)) {
			t.Fatalf("sliding: %+v", h)
		}
		// Read later with no new probes: the current bucket ages the same way.
		if h := health(b0.Add(2*w + 30*time.Minute)); !near(h.Points, 0.5) {
			t.Fatalf("aged: %+v", h)
		}
		if h := health(b0.Add(3 * w)); h.Points != 0 {
			t.Fatalf("older than two windows: %+v", h)
		}
		// A probe two buckets later drops both old buckets.
		probe(b0.Add(3*w+time.Minute), 1, 0.002)
		if h := health(b0.Add(3*w + 2*time.Minute)); !near(h.Points, 1) || !near(h.AvgRTT, 0.002) {
			t.Fatalf("after a gap: %+v", h)
		}
	})
}
