package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ntppool-ng/ntppool/controlplane/mail"
	"github.com/ntppool-ng/ntppool/controlplane/mail/mailtest"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/wait"
	"github.com/ntppool-ng/ntppool/record"
)

// leaderPID reads the pid of the elected instance ("host:pid", the oldest
// candidate key) from etcd; 0 while nobody leads.
func leaderPID(t *testing.T, cli *clientv3.Client) int {
	t.Helper()
	resp, err := cli.Get(context.Background(), "/ntppool-control/leader", append(clientv3.WithFirstCreate(), clientv3.WithPrefix())...)
	if err != nil || len(resp.Kvs) == 0 {
		return 0
	}
	var pid int
	v := string(resp.Kvs[0].Value)
	fmt.Sscan(v[strings.LastIndexByte(v, ':')+1:], &pid)
	return pid
}

// TestTwoInstancesOneLeaderTakesOver runs two "serve" processes on one
// database and etcd: one leads; after it is killed with SIGKILL the other
// leads within the lease (2 s, plus etcd's expiry tick) and resyncs etcd.
func TestTwoInstancesOneLeaderTakesOver(t *testing.T) {
	ctx := context.Background()
	etcd, cli := startEtcd(t)
	db := filepath.Join(t.TempDir(), "two.db")
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	a := startServe(t, db, etcd.Endpoint(), freePort(t))
	b := startServe(t, db, etcd.Endpoint(), freePort(t))
	byPID := map[int]string{a.Process.Pid: "a", b.Process.Pid: "b"}
	wait.For(t, 15*time.Second, "a leader elected", func() bool { return byPID[leaderPID(t, cli)] != "" })
	first := leaderPID(t, cli)
	leader, other := a, b
	if first == b.Process.Pid {
		leader, other = b, a
	}
	// A stray record the current leader will not notice (it resyncs only on
	// taking office): the successor's resync must remove it.
	stray := record.ServerKey(record.DefaultPrefix, netip.MustParseAddr("127.9.9.8"))
	cli.Put(ctx, stray, `{"v":1,"ip":"127.9.9.8","weight":5}`)

	leader.Process.Signal(syscall.SIGKILL)
	leader.Wait()
	killed := time.Now()
	took := wait.For(t, 2*time.Second+3*time.Second, "the other instance takes over", func() bool {
		return leaderPID(t, cli) == other.Process.Pid
	})
	wait.For(t, 5*time.Second, "the new leader resyncs etcd", func() bool {
		resp, err := cli.Get(ctx, stray)
		return err == nil && len(resp.Kvs) == 0
	})
	t.Logf("leader %s killed; %s leads %v later (lease 2 s), resync done %v after the kill",
		byPID[first], byPID[other.Process.Pid], took, time.Since(killed))
}

// TestLeaderRunsTheJobsTheWebSiteUsedTo runs one app on a fast clock: the
// leader's jobs mail the alert of a failing server (through SMTP) and
// store the zone counts, and the app registers every leader-only job.
func TestLeaderRunsTheJobsTheWebSiteUsedTo(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, cli := startEtcd(t)
	smtp := mailtest.Start(t)
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "jobs.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acct, err := st.CreateAccount(ctx, "alerted")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateUser(ctx, store.User{AccountID: acct, Email: "alerted@example.test", EmailConfirmedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateServer(ctx, store.Server{IP: netip.MustParseAddr("192.0.2.66"), AccountID: acct, Netspeed: 1000,
		Country: "nl", InPool: true, Score: -42}); err != nil {
		t.Fatal(err)
	}
	cfg := appConfig{Listen: "127.0.0.1:0", Prefix: "/jobs/", Election: "/jobs-leader", LeaseTTL: 2 * time.Second,
		PoolZone: "pool.ntp.test", BaseURL: "http://127.0.0.1", SiteName: "Test Pool",
		Mail: mail.Config{Host: smtp.Host(), Port: smtp.Port(), From: "pool@example.test"}}
	testRules(&cfg)
	cfg.Alert.CheckEvery, cfg.ZoneCountsEvery = 20*time.Millisecond, 20*time.Millisecond
	a, err := newApp(ctx, cfg, st, cli, slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"publisher", "monitor selection", "deletions and retention", "alerts and automatic removal", "zone counts"}
	if got := a.lead.Jobs(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("leader jobs %v, want %v", got, want)
	}
	ln, err := a.listen()
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { a.run(ctx, ln); close(done) }()
	defer func() { cancel(); <-done }()

	waitCtx, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	m, ok := smtp.WaitFor(waitCtx, func(m mailtest.Message) bool { return strings.Contains(m.Body, "192.0.2.66") })
	if !ok {
		t.Fatal("no alert mail")
	}
	if m.To[0] != "alerted@example.test" || !strings.Contains(m.Body, "score -42.0") || !strings.Contains(m.Subject, "Test Pool") {
		t.Errorf("alert mail to %v, %q:\n%s", m.To, m.Subject, m.Body)
	}
	wait.For(t, 10*time.Second, "zone counts stored", func() bool {
		rows, err := st.ZoneCounts(ctx, "nl")
		return err == nil && len(rows) == 2 && rows[0].Registered == 1
	})
	if !a.lead.IsLeader() {
		t.Fatal("the jobs ran but the app does not lead")
	}
}
