package main

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

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
