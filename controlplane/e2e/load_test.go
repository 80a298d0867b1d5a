package e2e

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/api"
	"github.com/ntppool-ng/ntppool/controlplane/assign"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/wait"
	"github.com/ntppool-ng/ntppool/monitorapi"
	"github.com/ntppool-ng/ntppool/record"
)

// TestScoreChangeToEtcdUnderIngestLoad: while two monitors ingest results
// as fast as the store takes them (every result a score change the
// publisher must look at), a score crossing 10 still reaches etcd in under
// a second.
func TestScoreChangeToEtcdUnderIngestLoad(t *testing.T) {
	ctx := context.Background()
	p := startPool(t)
	key := []byte(rand.Text())
	a := api.New(p.st, api.Config{Score: score.DefaultConfig(), Assign: assign.Local(), TicketKey: key,
		OnScores: func(ids []int64) { p.pub.Changed(ids...) }})
	var servers []netip.Addr
	for i := range 200 {
		ip := netip.AddrFrom4([4]byte{127, 2, byte(i >> 8), byte(i + 1)})
		if _, err := p.st.CreateServer(ctx, store.Server{IP: ip, Netspeed: 1000, InPool: true}); err != nil {
			t.Fatal(err)
		}
		servers = append(servers, ip)
	}
	var mons []store.Monitor
	for i := range 2 {
		id, _ := p.st.CreateMonitor(ctx, store.Monitor{Name: fmt.Sprint("m", i), TokenHash: fmt.Sprint("h", i), State: store.MonitorActive})
		for j := range servers {
			p.st.AddMonitorServer(ctx, id, int64(j+1), store.PairActive, time.Now())
		}
		m, _ := p.st.Monitor(ctx, id)
		mons = append(mons, m)
	}
	probe := netip.MustParseAddr("127.3.0.1")
	pid, _ := p.st.CreateServer(ctx, store.Server{IP: probe, Netspeed: 1000, InPool: true})

	lctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	// A failed poll ends the test early: stop the load before it returns,
	// or a late t.Errorf panics the whole test binary.
	defer wg.Wait()
	defer stop()
	var results atomic.Int64
	for _, m := range mons {
		wg.Go(func() {
			off, rtt := 0.001, 0.002
			for n := 0; lctx.Err() == nil; n++ {
				id := fmt.Sprintf("%016x-%08d", time.Now().UnixNano(), n)
				res := monitorapi.Results{BatchID: id}
				for k := range 10 {
					ip := servers[(n*10+k)%len(servers)]
					res.Results = append(res.Results, monitorapi.Result{IP: ip, Ticket: api.Ticket(key, m.ID, id, ip),
						Time: time.Now(), Offset: &off, RTT: &rtt, Stratum: 2})
				}
				if _, err := a.Submit(ctx, m, res); err != nil {
					t.Errorf("submit: %v", err)
					return
				}
				results.Add(10)
			}
		})
	}
	start := time.Now()
	// Let the load build up (and the publisher's queue with it) first.
	wait.For(t, 10*time.Second, "ingestion under way", func() bool { return results.Load() >= 5000 })
	k := record.ServerKey(record.DefaultPrefix, probe)
	inEtcd := func() bool {
		resp, err := p.cli.Get(ctx, k)
		return err == nil && len(resp.Kvs) == 1
	}
	var worst time.Duration
	for i := range 10 {
		sc := 15.0
		if i%2 == 1 {
			sc = 5
		}
		p.st.SetServerScore(ctx, pid, sc, time.Now())
		p.pub.Changed(pid)
		d := wait.For(t, 5*time.Second, "score change reaches etcd under load", func() bool { return inEtcd() == (sc >= 10) })
		worst = max(worst, d)
	}
	stop()
	wg.Wait()
	rate := float64(results.Load()) / time.Since(start).Seconds()
	t.Logf("under %.0f results/s of ingestion: worst score change to etcd write %v", rate, worst)
	if worst >= time.Second {
		t.Fatalf("score change to etcd took %v under load, want under 1 s", worst)
	}
}
