package store

import (
	"context"
	"net/netip"
	"testing"
	"time"
)

func TestSetAtATimeIngestion(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, st *Store) {
		a := netip.MustParseAddr("192.0.2.1")
		b := netip.MustParseAddr("2001:db8::2")
		ida, _ := st.CreateServer(ctx, Server{IP: a, Netspeed: 1, InPool: true})
		idb, _ := st.CreateServer(ctx, Server{IP: b, Netspeed: 1, InPool: true})
		m, _ := st.CreateMonitor(ctx, Monitor{Name: "m", TokenHash: "h"})
		now := time.Now()
		st.AddMonitorServer(ctx, m, ida, PairActive, now)

		got, err := st.ProbeTargets(ctx, m, []netip.Addr{a, b, netip.MustParseAddr("192.0.2.99")})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || !got[a].HasPair || got[b].HasPair || got[b].ServerID != idb {
			t.Fatalf("ProbeTargets = %+v", got)
		}
		rtt := 0.004
		if err := st.RecordProbes(ctx, m, []ProbeUpdate{{ServerID: ida, Score: 3.5, Step: 1, Time: now, RTT: &rtt}}, time.Hour); err != nil {
			t.Fatal(err)
		}
		p, _ := st.MonitorServer(ctx, m, ida)
		if p.Score != 3.5 || p.LastRTT != rtt || p.LastProbe.UnixMilli() != now.UnixMilli() {
			t.Fatalf("pair after RecordProbes: %+v", p)
		}
		if err := st.SetServerScores(ctx, []ScoreUpdate{{ida, 11}, {idb, -3}}, now); err != nil {
			t.Fatal(err)
		}
		sa, _ := st.Server(ctx, ida)
		sb, _ := st.Server(ctx, idb)
		if sa.Score != 11 || sb.Score != -3 || sa.LastScoreUpdate.IsZero() {
			t.Fatalf("scores %v %v", sa, sb)
		}
		off := 0.25
		err = st.AddLogScores(ctx, []LogScore{
			{ServerID: ida, MonitorID: m, Time: now, Step: 1, Score: 3.5, Offset: &off, RTT: &rtt, Leap: 3, Error: "x"},
			{ServerID: ida, Time: now, Score: 11},
		})
		if err != nil {
			t.Fatal(err)
		}
		rows, err := st.ScoreLog(ctx, LogQuery{ServerID: ida, Monitor: LogAllMonitor, Limit: 10})
		if err != nil || len(rows) != 2 {
			t.Fatalf("ScoreLog = %v, %v", rows, err)
		}
		ps, err := st.PairStatuses(ctx, now, time.Hour)
		if err != nil || len(ps) != 1 || ps[0].Health.Points <= 0 || ps[0].Health.AvgStep != 1 || ps[0].Health.AvgRTT != rtt {
			t.Fatalf("PairStatuses = %+v, %v", ps, err)
		}
	})
}

func TestBatchesAreIdempotentAndLastBatchOnlyGrows(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, st *Store) {
		m, _ := st.CreateMonitor(ctx, Monitor{Name: "m", TokenHash: "h"})
		now := time.Now()
		if err := st.RecordBatch(ctx, m, "0002", 5, now); err != nil {
			t.Fatal(err)
		}
		if err := st.RecordBatch(ctx, m, "0002", 5, now); err == nil {
			t.Fatal("the same batch recorded twice")
		}
		st.RecordBatch(ctx, m, "0001", 3, now)
		mon, _ := st.Monitor(ctx, m)
		if mon.LastBatchID != "0002" {
			t.Fatalf("last batch %q, want 0002 (it only grows)", mon.LastBatchID)
		}
		if n, ok, _ := st.BatchAccepted(ctx, m, "0002"); !ok || n != 5 {
			t.Fatalf("BatchAccepted = %d %v", n, ok)
		}
		if n, _ := st.DeleteBatchesBefore(ctx, now.Add(time.Second)); n != 2 {
			t.Fatalf("deleted %d batches", n)
		}
		if _, ok, _ := st.BatchAccepted(ctx, m, "0002"); ok {
			t.Fatal("batch kept past retention")
		}
		if mon, _ = st.Monitor(ctx, m); mon.LastBatchID != "0002" {
			t.Fatal("retention forgot the monitor's newest batch id")
		}
	})
}

func TestRetentionDeletesInChunks(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, st *Store) {
		sid, _ := st.CreateServer(ctx, Server{IP: netip.MustParseAddr("192.0.2.1"), InPool: true})
		now := time.Now()
		for range 12 {
			rows := make([]LogScore, 1000)
			for i := range rows {
				rows[i] = LogScore{ServerID: sid, Time: now.Add(-48 * time.Hour), Score: 1}
			}
			if err := st.AddLogScores(ctx, rows); err != nil {
				t.Fatal(err)
			}
		}
		st.AddLogScore(ctx, LogScore{ServerID: sid, Time: now, Score: 2})
		n, err := st.DeleteLogScoresBefore(ctx, now.Add(-24*time.Hour))
		if err != nil || n != 12000 {
			t.Fatalf("deleted %d (%v), want 12000", n, err)
		}
		if left, _ := st.CountLogScores(ctx); left != 1 {
			t.Fatalf("%d rows left, want 1", left)
		}
	})
}
