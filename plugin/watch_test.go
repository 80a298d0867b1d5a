package ntppool

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus/testutil"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ntppool-ng/ntppool/internal/embedetcd"
	"github.com/ntppool-ng/ntppool/internal/poolgen"
	"github.com/ntppool-ng/ntppool/internal/wait"
	"github.com/ntppool-ng/ntppool/record"
)

func startEtcd(t *testing.T) (*embedetcd.Server, *clientv3.Client) {
	t.Helper()
	e, err := embedetcd.Start(embedetcd.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	t.Cleanup(func() {
		if !stopped {
			e.Stop()
		}
	})
	stopEtcd = func() { stopped = true; e.Stop() }
	cli, err := e.Client()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return e, cli
}

// stopEtcd stops the etcd of the last startEtcd (once).
var stopEtcd func()

// startEtcdPool starts a plugin on endpoint with fast timers.
func startEtcdPool(t *testing.T, endpoint string, startup time.Duration) *NTPPool {
	t.Helper()
	cfg := testConfig()
	cfg.Endpoints = []string{endpoint}
	cfg.StartupTimeout = startup
	cfg.HealthInterval = 50 * time.Millisecond
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.rng = seeded()
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Stop() })
	return p
}

func putServer(t *testing.T, cli *clientv3.Client, s record.Server) {
	t.Helper()
	val, err := record.EncodeServer(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.Put(context.Background(), record.ServerKey("", s.IP), string(val)); err != nil {
		t.Fatal(err)
	}
}

func ukAnswer(t *testing.T, p *NTPPool) []string {
	ips := answerIPs(serve(t, p, ecsMsg("uk.pool.ntp.test.", dns.TypeA, ""), clientUK).Msg)
	slices.Sort(ips)
	return ips
}

// TestWatchPutAndDelete writes a record and sees it in the next answers,
// then deletes it and sees it gone.
func TestWatchPutAndDelete(t *testing.T) {
	e, cli := startEtcd(t)
	if err := poolgen.Write(context.Background(), cli, record.DefaultPrefix, testServers(), testVendors()); err != nil {
		t.Fatal(err)
	}
	p := startEtcdPool(t, e.Endpoint(), 10*time.Second)
	if !p.Ready() {
		t.Fatal("not ready after start")
	}
	if got := ukAnswer(t, p); !slices.Equal(got, []string{"198.51.100.10"}) {
		t.Fatalf("uk answers %v", got)
	}
	serial := p.idx.Load().serial

	added := srv("198.51.100.11", 1000, "uk")
	putServer(t, cli, added)
	took := wait.For(t, 2*time.Second, "new server in answers", func() bool {
		return slices.Equal(ukAnswer(t, p), []string{"198.51.100.10", "198.51.100.11"})
	})
	t.Logf("etcd put to answer: %s", took)
	if p.idx.Load().serial == serial {
		t.Error("SOA serial did not change with the data")
	}

	if _, err := cli.Delete(context.Background(), record.ServerKey("", added.IP)); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 2*time.Second, "deleted server gone", func() bool {
		return slices.Equal(ukAnswer(t, p), []string{"198.51.100.10"})
	})

	// A vendor appears with its names.
	val, _ := record.EncodeVendor(record.Vendor{Name: "newvendor", ClientType: record.ClientNTP})
	if _, err := cli.Put(context.Background(), record.VendorKey("", "newvendor"), string(val)); err != nil {
		t.Fatal(err)
	}
	wait.For(t, 2*time.Second, "vendor answers", func() bool {
		m := serve(t, p, ecsMsg("0.newvendor.pool.ntp.test.", dns.TypeA, ""), clientUK).Msg
		return m.Rcode == dns.RcodeSuccess && len(m.Answer) == 1
	})
}

// TestBadRecordsSkippedAndCounted: a malformed or newer record is skipped
// and counted; the good records of the same load still land.
func TestBadRecordsSkippedAndCounted(t *testing.T) {
	e, cli := startEtcd(t)
	ctx := context.Background()
	before := testutil.ToFloat64(skippedRecords.WithLabelValues("malformed")) + testutil.ToFloat64(skippedRecords.WithLabelValues("newer_version"))
	putServer(t, cli, srv("198.51.100.10", 1000, "uk"))
	cli.Put(ctx, record.ServersPrefix("")+"198.51.100.12", "{not json")
	cli.Put(ctx, record.ServersPrefix("")+"198.51.100.13", `{"v":99,"ip":"198.51.100.13","weight":1,"country":"uk"}`)
	cli.Put(ctx, record.DefaultPrefix+"future/kind", `{"v":2}`)

	p := startEtcdPool(t, e.Endpoint(), 10*time.Second)
	if got := ukAnswer(t, p); !slices.Equal(got, []string{"198.51.100.10"}) {
		t.Fatalf("uk answers %v", got)
	}
	after := testutil.ToFloat64(skippedRecords.WithLabelValues("malformed")) + testutil.ToFloat64(skippedRecords.WithLabelValues("newer_version"))
	if after-before != 2 {
		t.Errorf("skipped records grew by %v, want 2", after-before)
	}
	// A bad value over a good key removes that server; others stay.
	cli.Put(ctx, record.ServerKey("", netip.MustParseAddr("198.51.100.10")), "garbage")
	putServer(t, cli, srv("198.51.100.14", 1000, "uk"))
	wait.For(t, 2*time.Second, "bad update skipped, good one applied", func() bool {
		return slices.Equal(ukAnswer(t, p), []string{"198.51.100.14"})
	})
}

// TestEtcdDownAtStart: with no etcd the plugin is not ready and retries;
// when etcd comes up it loads and becomes ready.
func TestEtcdDownAtStart(t *testing.T) {
	dir := t.TempDir()
	e, err := embedetcd.Start(embedetcd.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.Config()
	e.Stop()

	p := startEtcdPool(t, e.Endpoint(), 100*time.Millisecond)
	if p.Ready() {
		t.Fatal("ready without etcd")
	}
	e, err = embedetcd.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Stop)
	cli, err := e.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	putServer(t, cli, srv("198.51.100.10", 1000, "uk"))
	wait.For(t, 15*time.Second, "ready after etcd came up", p.Ready)
	wait.For(t, 5*time.Second, "data loaded", func() bool { return len(ukAnswer(t, p)) == 1 })
}

// TestEtcdStopAndRestart: answers go on from the last index while etcd is
// down; after a restart new data shows up.
func TestEtcdStopAndRestart(t *testing.T) {
	e, cli := startEtcd(t)
	putServer(t, cli, srv("198.51.100.10", 1000, "uk"))
	p := startEtcdPool(t, e.Endpoint(), 10*time.Second)
	cfg := e.Config()
	t0 := time.Now()
	stopEtcd()
	t.Logf("etcd stop took %s", time.Since(t0))
	errs := testutil.ToFloat64(etcdErrors.WithLabelValues("probe"))
	wait.For(t, 10*time.Second, "etcd outage noticed", func() bool {
		return testutil.ToFloat64(etcdErrors.WithLabelValues("probe")) > errs
	})
	if got := ukAnswer(t, p); !slices.Equal(got, []string{"198.51.100.10"}) || !p.Ready() {
		t.Fatalf("without etcd: answers %v ready %v", got, p.Ready())
	}

	e2, err := embedetcd.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e2.Stop)
	cli2, err := e2.Client()
	if err != nil {
		t.Fatal(err)
	}
	defer cli2.Close()
	putServer(t, cli2, srv("198.51.100.11", 1000, "uk"))
	wait.For(t, 15*time.Second, "new data after restart", func() bool {
		return slices.Equal(ukAnswer(t, p), []string{"198.51.100.10", "198.51.100.11"})
	})
}

// TestTwoInstancesSameSubsets: two DNS servers reading the same etcd deal
// the same numbered subsets.
func TestTwoInstancesSameSubsets(t *testing.T) {
	e, cli := startEtcd(t)
	servers := poolgen.Generate(poolgen.Options{N: 2000, Seed: 9})
	if err := poolgen.Write(context.Background(), cli, record.DefaultPrefix, servers, nil); err != nil {
		t.Fatal(err)
	}
	a := startEtcdPool(t, e.Endpoint(), 10*time.Second)
	b := startEtcdPool(t, e.Endpoint(), 10*time.Second)
	ia, ib := a.idx.Load(), b.idx.Load()
	if ia.period != ib.period {
		// The two loads straddled a period boundary (one-hour periods:
		// rare); a third load shares the second one's period.
		ia = startEtcdPool(t, e.Endpoint(), 10*time.Second).idx.Load()
		if ia.period != ib.period {
			t.Fatalf("periods %d and %d differ twice", ia.period, ib.period)
		}
	}
	compared := 0
	for label, za := range ia.zones {
		zb := ib.zones[label]
		for n := range subsets {
			for f := range 2 {
				if !slices.Equal(ipsOf(ia, subsetOf(ia, za, n, f)), ipsOf(ib, subsetOf(ib, zb, n, f))) {
					t.Fatalf("%d.%s family %d differs", n, label, f)
				}
				compared += subsetOf(ia, za, n, f).len()
			}
		}
	}
	if de := subsetOf(ia, ia.zones["de"], 0, fam4).len(); de < 50 {
		t.Errorf("0.de has %d servers, want a real split", de)
	}
	t.Logf("compared %d subset entries", compared)
}

// TestPeriodReshuffles: at each period boundary the subsets are dealt anew
// and the SOA serial moves, without any etcd change.
func TestPeriodReshuffles(t *testing.T) {
	e, cli := startEtcd(t)
	if err := poolgen.Write(context.Background(), cli, record.DefaultPrefix, poolgen.Generate(poolgen.Options{N: 500, Seed: 4}), nil); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig()
	cfg.Endpoints = []string{e.Endpoint()}
	cfg.Period = 200 * time.Millisecond
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.Start()
	t.Cleanup(func() { p.Stop() })
	first := p.idx.Load()
	wait.For(t, 5*time.Second, "next period", func() bool { return p.idx.Load().period > first.period })
	next := p.idx.Load()
	if next.serial == first.serial {
		t.Error("serial unchanged across periods")
	}
	if slices.Equal(ipsOf(first, subsetOf(first, first.zones["de"], 0, fam4)), ipsOf(next, subsetOf(next, next.zones["de"], 0, fam4))) {
		t.Error("0.de unchanged across periods")
	}
}

// TestCompactionResyncs: when the revision to watch from has been
// compacted away, the plugin reads everything again and misses nothing.
func TestCompactionResyncs(t *testing.T) {
	e, cli := startEtcd(t)
	putServer(t, cli, srv("198.51.100.10", 1000, "uk"))
	cfg := testConfig()
	cfg.Endpoints = []string{e.Endpoint()}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.rng = seeded()
	var once sync.Once
	p.afterLoad = func(c *clientv3.Client) {
		once.Do(func() {
			// A write the watch would have to replay, then compact it away.
			putServer(t, cli, srv("198.51.100.11", 1000, "uk"))
			resp, err := cli.Put(context.Background(), "/unrelated", "x")
			if err != nil {
				t.Error(err)
				return
			}
			if _, err := cli.Compact(context.Background(), resp.Header.Revision); err != nil {
				t.Error(err)
			}
		})
	}
	before := testutil.ToFloat64(etcdErrors.WithLabelValues("watch"))
	p.Start()
	t.Cleanup(func() { p.Stop() })
	wait.For(t, 10*time.Second, "server written before the compaction", func() bool {
		return slices.Equal(ukAnswer(t, p), []string{"198.51.100.10", "198.51.100.11"})
	})
	if testutil.ToFloat64(etcdErrors.WithLabelValues("watch")) <= before {
		t.Error("the compacted watch was not counted")
	}
}

// TestConcurrentQueriesDuringSwaps: queries run while indexes are swapped
// (run with -race).
func TestConcurrentQueriesDuringSwaps(t *testing.T) {
	p := newStaticPool(t, testConfig(), testServers(), testVendors())
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				m := serve(t, p, ecsMsg("pool.ntp.test.", dns.TypeA, "89.160.20.128/25"), clientUS)
				if len(m.Msg.Answer) == 0 {
					t.Error("empty answer during swaps")
					return
				}
			}
		})
	}
	for i := range 200 {
		p.setIndex(buildIndex(testServers(), testVendors(), int64(i), 1))
	}
	close(stop)
	wg.Wait()
}
