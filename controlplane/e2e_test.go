package main

import (
	"context"
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ntppool-ng/ntppool/controlplane/api/apitest"
	"github.com/ntppool-ng/ntppool/controlplane/registry"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/chronytest"
	"github.com/ntppool-ng/ntppool/internal/embedetcd"
	"github.com/ntppool-ng/ntppool/internal/ntpserver"
	"github.com/ntppool-ng/ntppool/internal/wait"
	"github.com/ntppool-ng/ntppool/probe"
	"github.com/ntppool-ng/ntppool/record"
)

// startEtcd runs an embedded etcd for one test.
func startEtcd(t *testing.T) (*embedetcd.Server, *clientv3.Client) {
	t.Helper()
	return embedetcd.StartForTest(t)
}

// testRules is dev's fast clock made faster still: a probe is one query
// and a pair is due again 200 ms after it was handed out.
func testRules(c *appConfig) {
	fastRules(c)
	a := &c.Assign
	a.ActiveInterval, a.ActiveTestingInterval, a.TestingInterval, a.SlowInterval = 200*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond, 200*time.Millisecond
	a.MinRescore = 0
	c.API.Samples, c.API.Spacing, c.API.Timeout, c.API.IdlePoll = 1, 0, 300*time.Millisecond, 100*time.Millisecond
	c.Tick, c.Recheck = 200*time.Millisecond, time.Second
}

func published(t *testing.T, cli *clientv3.Client, ip netip.Addr) bool {
	t.Helper()
	key := record.ServerKey(record.DefaultPrefix, ip)
	resp, err := cli.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return len(resp.Kvs) == 1
}

// TestEndToEndScoreRisesAndFalls: chrony and an in-test NTP server on
// 127.0.0.x are registered, probed by a monitor through the API, scored,
// published into etcd; then the in-test server goes wrong (1 s offset,
// then silence after recovery) and leaves etcd while chrony stays.
func TestEndToEndScoreRisesAndFalls(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, cli := startEtcd(t)
	chrony := chronytest.Start(t, "127.0.0.31")
	port := chrony.Addr.Port()
	fake, err := ntpserver.Listen(netip.AddrPortFrom(netip.MustParseAddr("127.0.0.32"), port).String(), ntpserver.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer fake.Close()

	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "e2e.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := appConfig{Listen: "127.0.0.1:0", Prefix: record.DefaultPrefix, Election: "/e2e-leader", LeaseTTL: 2 * time.Second,
		AllowPrivate: true, NTPPort: port, PoolZone: "pool.ntp.test", BaseURL: "http://127.0.0.1"}
	testRules(&cfg)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := newApp(ctx, cfg, st, cli, log)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := a.listen()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { a.run(ctx, ln); close(done) }()
	defer func() { cancel(); <-done }()

	tok, err := createMonitor(ctx, st, store.Monitor{Name: "m", IP4: netip.MustParseAddr("127.0.0.1"), State: store.MonitorActive})
	if err != nil {
		t.Fatal(err)
	}
	chronyIP, fakeIP := chrony.Addr.Addr(), netip.MustParseAddr("127.0.0.32")
	for _, ip := range []netip.Addr{chronyIP, fakeIP} {
		speed := int64(1500)
		if _, err := a.reg.Register(ctx, 0, registry.Input{Address: ip.String(), Netspeed: &speed, Country: "de"}); err != nil {
			t.Fatalf("register %s: %v", ip, err)
		}
	}
	pr, err := probe.New(probe.Options{Samples: 1, Timeout: 300 * time.Millisecond, Port: port, AllowPrivate: true})
	if err != nil {
		t.Fatal(err)
	}
	p := &apitest.Monitor{URL: "http://" + ln.Addr().String(), Token: tok, Probe: pr}
	pctx, pcancel := context.WithCancel(ctx)
	pdone := make(chan struct{})
	go func() {
		if err := p.Run(pctx); err != nil {
			t.Errorf("monitor: %v", err)
		}
		close(pdone)
	}()
	defer func() { pcancel(); <-pdone }()

	in := wait.For(t, 30*time.Second, "both servers published", func() bool {
		return published(t, cli, chronyIP) && published(t, cli, fakeIP)
	})
	t.Logf("registration to etcd: %v", in)

	fake.SetConfig(ntpserver.Config{Offset: time.Second})
	out := wait.For(t, 15*time.Second, "server 1 s off leaves etcd", func() bool { return !published(t, cli, fakeIP) })
	t.Logf("1 s offset to removal from etcd: %v", out)
	if !published(t, cli, chronyIP) {
		t.Fatal("chrony left etcd too")
	}
	s, _ := st.ServerByIP(ctx, fakeIP)
	if s.Score >= 10 {
		t.Fatalf("score %v after the fault, want below 10", s.Score)
	}
	fake.SetConfig(ntpserver.Config{})
	wait.For(t, 30*time.Second, "recovered server back in etcd", func() bool { return published(t, cli, fakeIP) })
	fake.SetConfig(ntpserver.Config{KissCode: "RATE"})
	wait.For(t, 15*time.Second, "KoD RATE server leaves etcd", func() bool { return !published(t, cli, fakeIP) })
	fake.SetConfig(ntpserver.Config{})
	wait.For(t, 30*time.Second, "recovered again", func() bool { return published(t, cli, fakeIP) })
	fake.SetConfig(ntpserver.Config{Silent: true})
	wait.For(t, 15*time.Second, "silent server leaves etcd", func() bool { return !published(t, cli, fakeIP) })
	if !published(t, cli, chronyIP) {
		t.Fatal("chrony left etcd")
	}
}
