package leader

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/ntppool-ng/ntppool/internal/embedetcd"
	"github.com/ntppool-ng/ntppool/internal/wait"
)

func testLeader(t *testing.T, cli *clientv3.Client, name string) *Leader {
	return New(cli, Config{Election: "/test-leader", Name: name, TTL: 2 * time.Second,
		Log: slog.New(slog.NewTextHandler(t.Output(), nil))})
}

func run(t *testing.T, l *Leader) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// counter is a job that counts its running instances and the terms it saw.
type counter struct {
	running, started atomic.Int64
	fence            atomic.Pointer[Fence]
}

func (c *counter) job(ctx context.Context, f Fence) error {
	c.running.Add(1)
	c.started.Add(1)
	c.fence.Store(&f)
	<-ctx.Done()
	c.running.Add(-1)
	return nil
}

// TestJobsRunOnlyOnTheLeaderAndMoveWithIt: of two instances only the
// leader runs its jobs, its fence admits its writes; when the leader's
// client dies, its jobs stop (lease lost) and the other's start within
// the TTL, and the old fence refuses writes.
func TestJobsRunOnlyOnTheLeaderAndMoveWithIt(t *testing.T) {
	srv, cliB := embedetcd.StartForTest(t)
	cliA, err := srv.Client()
	if err != nil {
		t.Fatal(err)
	}
	var ja, jb counter
	a := testLeader(t, cliA, "a")
	a.Add("count", ja.job)
	run(t, a)
	wait.For(t, 10*time.Second, "a leads and runs its job", func() bool { return a.IsLeader() && ja.running.Load() == 1 })
	b := testLeader(t, cliB, "b")
	b.Add("count", jb.job)
	run(t, b)

	ctx := context.Background()
	fa := *ja.fence.Load()
	put := func(f Fence, v string) bool {
		resp, err := cliB.Txn(ctx).If(f.Cmp()).Then(clientv3.OpPut("/test-fenced", v)).Commit()
		if err != nil {
			t.Fatal(err)
		}
		return resp.Succeeded
	}
	if !put(fa, "a") {
		t.Fatal("the leader's fence refused its write")
	}
	if b.IsLeader() || jb.started.Load() != 0 {
		t.Fatalf("b leads=%v, its job started %d times while a leads", b.IsLeader(), jb.started.Load())
	}

	cliA.Close() // a dies without resigning: its lease runs out
	took := wait.For(t, 2*time.Second+3*time.Second, "b takes over and runs its job", func() bool {
		return b.IsLeader() && jb.running.Load() == 1
	})
	wait.For(t, 5*time.Second, "a's job stops when its lease is lost", func() bool { return ja.running.Load() == 0 })
	if a.IsLeader() {
		t.Fatal("a still thinks it leads")
	}
	if put(fa, "stale") {
		t.Fatal("the former leader's fence admitted a write")
	}
	if !put(*jb.fence.Load(), "b") {
		t.Fatal("the new leader's fence refused its write")
	}
	t.Logf("takeover %v after the leader's client died (lease 2 s)", took)
}

// TestFailingJobEndsTheTerm: a job's error stops the other jobs and the
// instance campaigns again, starting a new term.
func TestFailingJobEndsTheTerm(t *testing.T) {
	_, cli := embedetcd.StartForTest(t)
	var c counter
	var fails atomic.Int64
	l := testLeader(t, cli, "a")
	l.Add("count", c.job)
	l.Add("fails once", func(ctx context.Context, f Fence) error {
		if fails.Add(1) == 1 {
			return errors.New("boom")
		}
		<-ctx.Done()
		return nil
	})
	stop := run(t, l)
	wait.For(t, 10*time.Second, "a second term", func() bool { return l.Terms() == 2 && c.running.Load() == 1 })
	if c.started.Load() != 2 {
		t.Fatalf("count job started %d times, want 2 (once per term)", c.started.Load())
	}
	stop()
	if l.IsLeader() || c.running.Load() != 0 {
		t.Fatalf("after Run returned: leading=%v, jobs running %d", l.IsLeader(), c.running.Load())
	}
	if got := l.Jobs(); len(got) != 2 || got[0] != "count" {
		t.Fatalf("Jobs() = %v", got)
	}
}
