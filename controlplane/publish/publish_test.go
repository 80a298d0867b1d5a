package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/ntppool-ng/ntppool/controlplane/leader"
	"github.com/ntppool-ng/ntppool/controlplane/score"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/embedetcd"
	"github.com/ntppool-ng/ntppool/internal/wait"
	"github.com/ntppool-ng/ntppool/record"
)

var (
	etcdOnce sync.Once
	etcdSrv  *embedetcd.Server
	etcdErr  error
)

// sharedEtcd is one member for the package's tests; each test uses its own
// prefixes.
func sharedEtcd(t *testing.T) *embedetcd.Server {
	t.Helper()
	etcdOnce.Do(func() {
		dir, err := tmpDir()
		if err != nil {
			etcdErr = err
			return
		}
		etcdSrv, etcdErr = embedetcd.Start(embedetcd.Config{Dir: dir})
	})
	if etcdErr != nil {
		t.Fatal(etcdErr)
	}
	return etcdSrv
}

func client(t *testing.T) *clientv3.Client {
	t.Helper()
	cli, err := sharedEtcd(t).Client()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func testConfig(t *testing.T) Config {
	return Config{
		Prefix:   "/" + t.Name() + "/",
		Debounce: 10 * time.Millisecond,
		Recheck:  time.Hour,
		Score:    score.DefaultConfig(),
		Log:      slog.New(slog.NewTextHandler(t.Output(), nil)),
	}
}

// leaderConfig is the test's own election with a 2 s lease.
func leaderConfig(t *testing.T, name string) leader.Config {
	return leader.Config{Election: "/" + t.Name() + "-leader", Name: name, TTL: 2 * time.Second,
		Log: slog.New(slog.NewTextHandler(t.Output(), nil))}
}

type fixture struct {
	st  *store.Store
	ids map[string]int64
}

func newStore(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, ids: map[string]int64{}}
	now := time.Now()
	for _, s := range []struct {
		ip       string
		score    float64
		speed    int64
		cc, over string
		del      time.Time
	}{
		{"192.0.2.1", 15, 1500, "de", "", time.Time{}},                  // published
		{"192.0.2.2", 5, 1500, "de", "", time.Time{}},                   // score too low
		{"192.0.2.3", 15, 0, "de", "", time.Time{}},                     // monitoring only
		{"192.0.2.4", 15, 1500, "de", "", now.Add(13 * 24 * time.Hour)}, // leaving
		{"2001:db8::5", 12, 3000, "de", "fr", time.Time{}},              // override
	} {
		id, err := st.CreateServer(ctx, store.Server{IP: netip.MustParseAddr(s.ip), Netspeed: s.speed, Country: s.cc,
			CountryOverride: s.over, InPool: true, DeletionOn: s.del})
		if err != nil {
			t.Fatal(err)
		}
		st.SetServerScore(ctx, id, s.score, now)
		f.ids[s.ip] = id
	}
	st.CreateVendorZone(ctx, store.VendorZone{Name: "acme", ClientType: "ntp", Status: store.VendorApproved})
	st.CreateVendorZone(ctx, store.VendorZone{Name: "pending-co"})
	return f
}

// snapshot reads every key under prefix.
func snapshot(t *testing.T, cli *clientv3.Client, prefix string) map[string]string {
	t.Helper()
	resp, err := cli.Get(context.Background(), prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, kv := range resp.Kvs {
		out[string(kv.Key)] = string(kv.Value)
	}
	return out
}

// start runs a publisher as the one job of its own leader named name.
func start(t *testing.T, cli *clientv3.Client, src Source, cfg Config, name string) (*Publisher, *leader.Leader, context.CancelFunc) {
	p := New(cli, src, cfg)
	l := leader.New(cli, leaderConfig(t, name))
	l.Add("publisher", p.Lead)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return p, l, stop
}

func TestResyncRemovesStrayKeysAndWritesTheStoreState(t *testing.T) {
	cli := client(t)
	cfg := testConfig(t)
	f := newStore(t)
	ctx := context.Background()
	stray := record.ServerKey(cfg.Prefix, netip.MustParseAddr("198.51.100.7"))
	cli.Put(ctx, stray, `{"v":1,"ip":"198.51.100.7","weight":1}`)
	cli.Put(ctx, record.ServerKey(cfg.Prefix, netip.MustParseAddr("192.0.2.1")), `{"v":1,"ip":"192.0.2.1","weight":1}`)
	cli.Put(ctx, cfg.Prefix+"junk/x", "y")
	outside := "/" + t.Name() + "-other/keep"
	cli.Put(ctx, outside, "mine")

	_, l, _ := start(t, cli, f.st, cfg, "a")
	want := map[string]string{
		record.ServerKey(cfg.Prefix, netip.MustParseAddr("192.0.2.1")):   `{"v":1,"ip":"192.0.2.1","weight":1500,"country":"de"}`,
		record.ServerKey(cfg.Prefix, netip.MustParseAddr("2001:db8::5")): `{"v":1,"ip":"2001:db8::5","weight":3000,"country":"fr"}`,
		record.VendorKey(cfg.Prefix, "acme"):                             `{"v":1,"name":"acme","client_type":"ntp"}`,
	}
	wait.For(t, 10*time.Second, "resync", func() bool { return fmt.Sprint(snapshot(t, cli, cfg.Prefix)) == fmt.Sprint(want) })
	if !l.IsLeader() {
		t.Fatal("publisher wrote without being leader")
	}
	if got := snapshot(t, cli, outside); got[outside] != "mine" {
		t.Fatal("resync touched a key outside its prefix")
	}
}

func TestChangeLandsWithinOneSecond(t *testing.T) {
	cli := client(t)
	cfg := testConfig(t)
	f := newStore(t)
	ctx := context.Background()
	p, l, _ := start(t, cli, f.st, cfg, "a")
	key := record.ServerKey(cfg.Prefix, netip.MustParseAddr("192.0.2.2"))
	wait.For(t, 10*time.Second, "leader", l.IsLeader)
	wait.For(t, 5*time.Second, "resync", func() bool { return p.Writes() > 0 })

	f.st.SetServerScore(ctx, f.ids["192.0.2.2"], 10.5, time.Now())
	p.Changed(f.ids["192.0.2.2"])
	in := wait.For(t, time.Second, "score crossing 10 reaches etcd", func() bool { return snapshot(t, cli, key)[key] != "" })
	f.st.SetServerScore(ctx, f.ids["192.0.2.2"], 9.9, time.Now())
	p.Changed(f.ids["192.0.2.2"])
	out := wait.For(t, time.Second, "score falling below 10 leaves etcd", func() bool { return snapshot(t, cli, key)[key] == "" })
	t.Logf("score change to etcd write: in %v, out %v", in, out)

	// A net speed change with no score change, and a vendor approval.
	f.st.SetServerNetspeed(ctx, 0, f.ids["192.0.2.1"], 0)
	f.st.DB().Exec(`UPDATE servers SET netspeed = 0 WHERE id = ?`, f.ids["192.0.2.1"])
	p.Changed(f.ids["192.0.2.1"])
	k1 := record.ServerKey(cfg.Prefix, netip.MustParseAddr("192.0.2.1"))
	wait.For(t, time.Second, "net speed 0 leaves etcd", func() bool { return snapshot(t, cli, k1)[k1] == "" })
	f.st.SetVendorZoneStatus(ctx, "pending-co", store.VendorApproved, time.Now())
	p.ChangedAll()
	kv := record.VendorKey(cfg.Prefix, "pending-co")
	wait.For(t, time.Second, "approved vendor reaches etcd", func() bool { return snapshot(t, cli, kv)[kv] != "" })
}

func TestFenceRefusesAFormerLeader(t *testing.T) {
	cli := client(t)
	cfg := testConfig(t)
	cfg.fill()
	election := leaderConfig(t, "").Election
	ctx := context.Background()
	p := New(cli, newStore(t).st, cfg)

	sa, err := concurrency.NewSession(cli, concurrency.WithTTL(2))
	if err != nil {
		t.Fatal(err)
	}
	ea := concurrency.NewElection(sa, election)
	if err := ea.Campaign(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	fa := leader.Fence{Key: ea.Key(), Rev: ea.Rev()}
	if err := p.write(ctx, fa, []clientv3.Op{clientv3.OpPut(cfg.Prefix+"servers/192.0.2.50", "a")}); err != nil {
		t.Fatalf("leader's write: %v", err)
	}
	sa.Close() // a loses its lease (as when it stalls past the TTL)

	sb, err := concurrency.NewSession(cli, concurrency.WithTTL(2))
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()
	eb := concurrency.NewElection(sb, election)
	if err := eb.Campaign(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	err = p.write(ctx, fa, []clientv3.Op{clientv3.OpPut(cfg.Prefix+"servers/192.0.2.50", "stale")})
	if !errors.Is(err, ErrNotLeader) {
		t.Fatalf("former leader's write: %v, want ErrNotLeader", err)
	}
	if got := snapshot(t, cli, cfg.Prefix+"servers/192.0.2.50"); got[cfg.Prefix+"servers/192.0.2.50"] != "a" {
		t.Fatalf("fenced write landed: %v", got)
	}
}

func TestLeaderElectionOneWritesOtherTakesOver(t *testing.T) {
	cfg := testConfig(t)
	f := newStore(t)
	srv := sharedEtcd(t)
	cliA, _ := srv.Client()
	cliB := client(t)
	a, la, stopA := start(t, cliA, f.st, cfg, "a")
	wait.For(t, 10*time.Second, "a leads", la.IsLeader)
	b, lb, _ := start(t, cliB, f.st, cfg, "b")
	wait.For(t, 5*time.Second, "a resynced", func() bool { return a.Writes() > 0 })
	// b campaigns but must not lead nor write while a lives.
	f.st.SetServerScore(context.Background(), f.ids["192.0.2.2"], 11, time.Now())
	a.Changed(f.ids["192.0.2.2"])
	b.Changed(f.ids["192.0.2.2"])
	key := record.ServerKey(cfg.Prefix, netip.MustParseAddr("192.0.2.2"))
	wait.For(t, time.Second, "a publishes", func() bool { return snapshot(t, cliB, key)[key] != "" })
	if lb.IsLeader() || b.Writes() != 0 {
		t.Fatalf("b leads=%v writes=%d while a leads", lb.IsLeader(), b.Writes())
	}

	// a dies without resigning: its client goes away, the lease runs out.
	cliA.Close()
	died := time.Now()
	ttl := leaderConfig(t, "").TTL
	wait.For(t, ttl+3*time.Second, "b takes over", lb.IsLeader)
	t.Logf("takeover %v after the leader died (lease TTL %v)", time.Since(died), ttl)
	stopA()
	f.st.SetServerScore(context.Background(), f.ids["192.0.2.2"], 3, time.Now())
	b.Changed(f.ids["192.0.2.2"])
	wait.For(t, time.Second, "b publishes", func() bool { return snapshot(t, cliB, key)[key] == "" })
}
