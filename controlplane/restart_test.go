package main

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ntppool-ng/ntppool/controlplane/api"
	"github.com/ntppool-ng/ntppool/controlplane/api/apitest"
	"github.com/ntppool-ng/ntppool/controlplane/store"
	"github.com/ntppool-ng/ntppool/internal/pgtest"
	"github.com/ntppool-ng/ntppool/internal/wait"
	"github.com/ntppool-ng/ntppool/monitorapi"
	"github.com/ntppool-ng/ntppool/record"
)

// TestMain lets the test binary be the control plane: with
// NTPPOOL_TEST_MAIN=1 it runs the command line as main would, so the
// restart test can start and SIGKILL a real process.
func TestMain(m *testing.M) {
	if os.Getenv("NTPPOOL_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	code := pgtest.Run(m)
	if binsDir != "" {
		os.RemoveAll(binsDir)
	}
	os.Exit(code)
}

const restartKey = "restart-test-ticket-key-0123456789abcdef"

// startServe runs "controlplane serve" as a child process and waits for its
// HTTP port.
func startServe(t *testing.T, db, etcd, listen string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "serve", "-db", db, "-etcd-endpoints", etcd, "-listen", listen,
		"-allow-private", "-lease-ttl", "2s", "-log-level", "warn")
	// No metrics listener unless env asks: instances would share its port.
	cmd.Env = append(append(os.Environ(), "NTPPOOL_TEST_MAIN=1", "NTPPOOL_TICKET_KEY="+restartKey, "NTPPOOL_METRICS_LISTEN="), env...)
	cmd.Stdout, cmd.Stderr = t.Output(), t.Output()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	wait.For(t, 20*time.Second, "control plane listening", func() bool {
		c, err := net.Dial("tcp", listen)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return cmd
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestRestartKeepsEveryAcknowledgedResult kills the control plane with
// SIGKILL while monitors post batches; every acknowledged batch must be in
// the store afterwards, and the restarted control plane resyncs etcd.
// It runs on both store backends: the whole control plane on PostgreSQL.
func TestRestartKeepsEveryAcknowledgedResult(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testRestart(t, filepath.Join(t.TempDir(), "restart.db")) })
	t.Run("postgres", func(t *testing.T) { testRestart(t, pgtest.NewDatabase(t)) })
}

func testRestart(t *testing.T, db string) {
	ctx := context.Background()
	etcd, cli := startEtcd(t)
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	const nServers, nMonitors = 50, 4
	var servers []netip.Addr
	for i := range nServers {
		ip := netip.AddrFrom4([4]byte{127, 1, 0, byte(1 + i)})
		if _, err := st.CreateServer(ctx, store.Server{IP: ip, Netspeed: 1000, InPool: true}); err != nil {
			t.Fatal(err)
		}
		servers = append(servers, ip)
	}
	type mon struct {
		id  int64
		tok string
	}
	var mons []mon
	for i := range nMonitors {
		tok, err := createMonitor(ctx, st, store.Monitor{Name: fmt.Sprint("m", i), State: store.MonitorActive})
		if err != nil {
			t.Fatal(err)
		}
		m, _ := st.MonitorByTokenHash(ctx, store.HashToken(tok))
		mons = append(mons, mon{m.ID, tok})
		for j := range nServers {
			st.AddMonitorServer(ctx, m.ID, int64(j+1), store.PairActive, time.Now())
		}
	}
	st.Close()

	listen := freePort(t)
	child := startServe(t, db, etcd.Endpoint(), listen)

	// Monitors post batches as fast as they can; each remembers the batches
	// acknowledged to it.
	var mu sync.Mutex
	acked := map[int64][]string{}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for _, m := range mons {
		p := &apitest.Monitor{URL: "http://" + listen, Token: m.tok}
		wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("%016x-%06d", time.Now().UnixNano(), n)
				res := monitorapi.Results{BatchID: id}
				off, rtt := 0.001, 0.002
				for k := range 10 {
					ip := servers[(n*10+k)%nServers]
					res.Results = append(res.Results, monitorapi.Result{IP: ip, Ticket: api.Ticket([]byte(restartKey), m.id, id, ip),
						Time: time.Now(), Offset: &off, RTT: &rtt, Stratum: 2})
				}
				var ack monitorapi.Ack
				if err := p.Call(context.Background(), monitorapi.PathResults, res, &ack); err != nil {
					return // the control plane died: this batch was not acknowledged
				}
				mu.Lock()
				acked[m.id] = append(acked[m.id], id)
				mu.Unlock()
			}
		})
	}
	wait.For(t, 20*time.Second, "some batches acknowledged", func() bool {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, v := range acked {
			n += len(v)
		}
		return n >= 100
	})
	child.Process.Signal(syscall.SIGKILL)
	child.Wait()
	close(stop)
	wg.Wait()

	st, err = store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	total := 0
	for mid, ids := range acked {
		for _, id := range ids {
			n, ok, err := st.BatchAccepted(ctx, mid, id)
			if err != nil || !ok || n != 10 {
				t.Fatalf("acknowledged batch %s of monitor %d: stored=%v accepted=%d err=%v", id, mid, ok, n, err)
			}
			total++
		}
	}
	var rows, batches int
	st.DB().QueryRow(`SELECT count(*) FROM log_scores WHERE monitor_id IS NOT NULL`).Scan(&rows)
	st.DB().QueryRow(`SELECT count(*) FROM batches`).Scan(&batches)
	if rows != 10*batches || batches < total {
		t.Fatalf("%d probe rows for %d stored batches (%d acknowledged)", rows, batches, total)
	}
	t.Logf("SIGKILL after %d acknowledged batches: all %d stored (%d probe rows)", total, total, rows)

	// While it is down etcd drifts from the store: a stray record appears
	// and a server's score rises past 10. The restarted leader resyncs.
	stray := record.ServerKey(record.DefaultPrefix, netip.MustParseAddr("127.9.9.9"))
	cli.Put(ctx, stray, `{"v":1,"ip":"127.9.9.9","weight":5}`)
	st.SetServerScore(ctx, 1, 20, time.Now())
	startServe(t, db, etcd.Endpoint(), listen)
	good := record.ServerKey(record.DefaultPrefix, servers[0])
	wait.For(t, 15*time.Second, "etcd resynchronised after the restart", func() bool {
		resp, err := cli.Get(ctx, record.DefaultPrefix, clientv3.WithPrefix())
		if err != nil {
			return false
		}
		keys := map[string]bool{}
		for _, kv := range resp.Kvs {
			keys[string(kv.Key)] = true
		}
		return keys[good] && !keys[stray]
	})
}
