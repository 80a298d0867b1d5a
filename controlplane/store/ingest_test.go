package store

import (
	"context"
	"fmt"
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

		got, err := st.ProbeTargets(ctx, []netip.Addr{a, b, netip.MustParseAddr("192.0.2.99")})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[a].ServerID != ida || got[b].ServerID != idb {
			t.Fatalf("ProbeTargets = %+v", got)
		}
		rtt := 0.004
		if err := st.RecordProbes(ctx, []ProbeUpdate{{MonitorID: m, ServerID: ida, Score: 3.5, Step: 1, Time: now, RTT: &rtt}}, time.Hour); err != nil {
			t.Fatal(err)
		}
		p, _ := st.MonitorServer(ctx, m, ida)
		if p.Score != 3.5 || p.LastRTT != rtt || p.LastStep != 1 || p.LastProbe.UnixMilli() != now.UnixMilli() {
			t.Fatalf("pair after RecordProbes: %+v", p)
		}
		if err := st.SetServerScores(ctx, []ScoreUpdate{{ida, 11, now}, {idb, -3, now.Add(-time.Minute)}}); err != nil {
			t.Fatal(err)
		}
		sa, _ := st.Server(ctx, ida)
		sb, _ := st.Server(ctx, idb)
		if sa.Score != 11 || sb.Score != -3 || !sa.LastScoreUpdate.Equal(now.Truncate(time.Millisecond)) ||
			!sb.LastScoreUpdate.Equal(now.Add(-time.Minute).Truncate(time.Millisecond)) {
			t.Fatalf("scores %v %v", sa, sb)
		}
		// An older result's score is not stored over a newer one.
		if err := st.SetServerScores(ctx, []ScoreUpdate{{ida, 5, now.Add(-time.Second)}, {idb, 7, now}}); err != nil {
			t.Fatal(err)
		}
		sa, _ = st.Server(ctx, ida)
		sb, _ = st.Server(ctx, idb)
		if sa.Score != 11 || sb.Score != 7 {
			t.Fatalf("after an older and a newer score: %v, %v; want 11 (kept), 7", sa.Score, sb.Score)
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
		// The pair's score at a time: its newest history row at or before it.
		if ps, ok, err := st.PairScoreAt(ctx, m, ida, now.Add(-time.Second)); err != nil || ok {
			t.Fatalf("PairScoreAt before the first row = %+v, %v, %v", ps, ok, err)
		}
		if ps, ok, err := st.PairScoreAt(ctx, m, ida, now.Add(time.Second)); err != nil || !ok || ps.Score != 3.5 || ps.Step != 1 || ps.RTT != rtt {
			t.Fatalf("PairScoreAt = %+v, %v, %v", ps, ok, err)
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

func TestBatchStatesAndRecordBatches(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, st *Store) {
		m1, _ := st.CreateMonitor(ctx, Monitor{Name: "m1", TokenHash: "h1"})
		m2, _ := st.CreateMonitor(ctx, Monitor{Name: "m2", TokenHash: "h2"})
		now := time.Now()
		state := func(m int64, id string) (BatchState, bool) {
			t.Helper()
			got, err := st.BatchStates(ctx, []MonitorBatch{{m, id}, {999, "x"}})
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := got[MonitorBatch{999, "x"}]; ok {
				t.Fatal("state for an unknown monitor")
			}
			s, ok := got[MonitorBatch{m, id}]
			return s, ok
		}
		if s, ok := state(m1, "0001"); !ok || s != (BatchState{}) {
			t.Fatalf("before: %+v %v", s, ok)
		}
		err := st.RecordBatches(ctx, []BatchRecord{{m1, "0001", 3}, {m1, "0003", 4}, {m2, "0002", 5}}, now)
		if err != nil {
			t.Fatal(err)
		}
		if s, _ := state(m1, "0001"); s != (BatchState{Last: "0003", Accepted: 3, Seen: true}) {
			t.Fatalf("m1 0001: %+v", s)
		}
		if s, _ := state(m2, "0009"); s != (BatchState{Last: "0002"}) {
			t.Fatalf("m2 0009: %+v", s)
		}
		// last_batch_id only grows.
		if err := st.RecordBatches(ctx, []BatchRecord{{m2, "0001", 1}}, now); err != nil {
			t.Fatal(err)
		}
		if s, _ := state(m2, "x"); s.Last != "0002" {
			t.Fatalf("last batch went back to %q", s.Last)
		}
	})
}

func TestPairReadsForIngest(t *testing.T) {
	ctx := context.Background()
	forEachBackend(t, func(t *testing.T, st *Store) {
		now := time.Now()
		var servers, mons []int64
		for i := range 3 {
			id, _ := st.CreateServer(ctx, Server{IP: netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)}), InPool: true})
			servers = append(servers, id)
			m, _ := st.CreateMonitor(ctx, Monitor{Name: fmt.Sprint("m", i), TokenHash: fmt.Sprint("h", i)})
			mons = append(mons, m)
		}
		for _, s := range servers {
			for i, m := range mons {
				st.AddMonitorServer(ctx, m, s, []string{PairActive, PairTesting, PairCandidate}[i], now)
			}
		}
		var ups []ProbeUpdate
		for _, s := range servers {
			for i, m := range mons {
				ups = append(ups, ProbeUpdate{MonitorID: m, ServerID: s, Score: 1, Time: now.Add(-time.Duration(i) * time.Hour)})
			}
		}
		if err := st.RecordProbes(ctx, ups, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		got, err := st.PairsByKey(ctx, []PairKey{{mons[0], servers[1]}, {mons[2], servers[2]}, {mons[2], 999}})
		if err != nil || len(got) != 2 {
			t.Fatalf("PairsByKey = %+v, %v", got, err)
		}
		// Active or testing and probed within the last 90 minutes: monitors 0 and 1.
		got, err = st.RecentPairs(ctx, servers[:2], now.Add(-90*time.Minute))
		if err != nil || len(got) != 4 {
			t.Fatalf("RecentPairs = %+v, %v", got, err)
		}
		for _, p := range got {
			if p.MonitorID == mons[2] {
				t.Fatalf("candidate in RecentPairs: %+v", p)
			}
		}
		got, err = st.PairsOfServers(ctx, servers)
		if err != nil || len(got) != 9 {
			t.Fatalf("PairsOfServers = %d pairs, %v", len(got), err)
		}
		// Every pair's health, merged from the buckets by server and monitor:
		// one probe each (monitor 2's two hours back), step 0; a range of
		// servers gives just theirs.
		ps, err := st.PairStatuses(ctx, now, 24*time.Hour)
		if err != nil || len(ps) != 9 {
			t.Fatalf("PairStatuses = %+v, %v", ps, err)
		}
		for _, p := range ps {
			if p.Health.Points != 1 || p.State == "" {
				t.Errorf("pair %d/%d: %+v", p.MonitorID, p.ServerID, p)
			}
		}
		if ps, _ := st.PairStatusesOf(ctx, now, 24*time.Hour, servers[1], servers[1]); len(ps) != 3 || ps[0].ServerID != servers[1] {
			t.Errorf("PairStatusesOf one server = %+v", ps)
		}
	})
}
