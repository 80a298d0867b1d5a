// Package leader is the one home of what only the leading control plane
// does. Any number of control planes may run on one etcd and database; one
// leads, elected with etcd's concurrency package (NewSession, NewElection,
// Campaign), and only the leader runs the registered jobs: the publisher,
// monitor selection, due deletions and retention, alerts, automatic
// removal and the daily zone counts (registered in the control plane's
// app.go).
//
// # Terms and fencing
//
// A term starts when the campaign is won. Every job then runs with a
// context that ends when the term does: when the session's lease is lost
// (etcd unreachable or the process too slow for the TTL, session.Done),
// when a job fails, or at shutdown. All jobs have returned before the
// instance campaigns again, so two terms of one instance never overlap.
//
// A job that writes to etcd guards every write with the term's Fence,
// Compare(CreateRevision(electionKey), "=", rev) as Election.Proclaim
// does: a former leader that has not yet noticed its lease ended cannot
// write. Jobs that write only to the database rely on the lease (a
// stalled former leader may finish one pass of such a job; each is
// idempotent).
//
// # Usage
//
//	l := leader.New(cli, leader.Config{TTL: 10 * time.Second})
//	l.Add("publisher", pub.Lead)
//	l.Add("monitor selection", leader.Plain(sched.RunSelection))
//	go l.Run(ctx)
package leader

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"
)

// DefaultElection is the election's key prefix, outside the record prefix.
const DefaultElection = "/ntppool-control/leader"

// Fence is a term's token: the election key and its create revision.
type Fence struct {
	Key string
	Rev int64
}

// Cmp is the transaction condition that holds only while this term's
// election key exists unchanged: put it in the If of every etcd write.
func (f Fence) Cmp() clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(f.Key), "=", f.Rev)
}

// Job is leader-only work. It runs until ctx ends (the term is over) and
// returns nil then; an error return ends the term for every job, and the
// instance campaigns again.
type Job func(ctx context.Context, f Fence) error

// Plain adapts work that needs no fence and reports its own errors.
func Plain(run func(ctx context.Context)) Job {
	return func(ctx context.Context, _ Fence) error {
		run(ctx)
		return nil
	}
}

// Config is the election's behaviour; zero fields take the defaults noted.
type Config struct {
	// Election is the key prefix (DefaultElection).
	Election string
	// Name identifies this instance in the election (hostname:pid).
	Name string
	// TTL of the leader's lease (10s): a dead leader is replaced within it.
	TTL time.Duration
	Log *slog.Logger
}

// Leader campaigns and runs the jobs while it leads.
type Leader struct {
	cli   *clientv3.Client
	cfg   Config
	names []string
	jobs  []Job

	leading atomic.Bool
	terms   atomic.Int64
}

// New returns a leader over cli; add jobs, then Run.
func New(cli *clientv3.Client, cfg Config) *Leader {
	if cfg.Election == "" {
		cfg.Election = DefaultElection
	}
	if cfg.Name == "" {
		h, _ := os.Hostname()
		cfg.Name = fmt.Sprintf("%s:%d", h, os.Getpid())
	}
	if cfg.TTL <= 0 {
		cfg.TTL = 10 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	return &Leader{cli: cli, cfg: cfg}
}

// Add registers a job to run in every term. Call it before Run.
func (l *Leader) Add(name string, job Job) {
	l.names = append(l.names, name)
	l.jobs = append(l.jobs, job)
}

// Jobs names the registered jobs in order.
func (l *Leader) Jobs() []string { return append([]string(nil), l.names...) }

// IsLeader reports whether this instance leads now.
func (l *Leader) IsLeader() bool { return l.leading.Load() }

// Terms counts the terms this instance has led (tests, metrics).
func (l *Leader) Terms() int64 { return l.terms.Load() }

// Run campaigns, runs the jobs while leading and campaigns again after a
// term ends, until ctx ends. It resigns on the way out so a successor need
// not wait for the lease to expire.
func (l *Leader) Run(ctx context.Context) error {
	for ctx.Err() == nil {
		err := l.term(ctx)
		if ctx.Err() != nil {
			return nil
		}
		l.cfg.Log.Warn("leader: term ended, campaigning again", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second): // etcd unreachable: do not spin
		}
	}
	return nil
}

// term is one session: campaign, then lead until the session, a job or ctx
// ends.
func (l *Leader) term(ctx context.Context) error {
	sess, err := concurrency.NewSession(l.cli, concurrency.WithTTL(max(1, int(l.cfg.TTL/time.Second))),
		concurrency.WithContext(ctx))
	if err != nil {
		return fmt.Errorf("leader: session: %w", err)
	}
	defer sess.Close() // revokes the lease: a successor takes over at once
	el := concurrency.NewElection(sess, l.cfg.Election)
	if err := el.Campaign(ctx, l.cfg.Name); err != nil {
		return fmt.Errorf("leader: campaign: %w", err)
	}
	f := Fence{Key: el.Key(), Rev: el.Rev()}
	l.cfg.Log.Info("leader: leading", "name", l.cfg.Name, "key", f.Key, "jobs", l.names)
	l.terms.Add(1)
	l.leading.Store(true)
	err = l.runJobs(ctx, sess, f)
	l.leading.Store(false)
	select {
	case <-sess.Done():
		err = fmt.Errorf("leader: lease lost (etcd unreachable or too slow for %v): %w", l.cfg.TTL, err)
	default:
	}
	if ctx.Err() != nil {
		rctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		el.Resign(rctx)
		cancel()
	}
	return err
}

// runJobs runs every job until the session ends, one fails, or ctx ends,
// and returns once all have stopped.
func (l *Leader) runJobs(ctx context.Context, sess *concurrency.Session, f Fence) error {
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for i, job := range l.jobs {
		wg.Go(func() {
			err := job(tctx, f)
			if err != nil && tctx.Err() == nil {
				mu.Lock()
				errs = append(errs, fmt.Errorf("leader: job %s: %w", l.names[i], err))
				mu.Unlock()
				cancel()
			}
		})
	}
	select {
	case <-sess.Done():
	case <-tctx.Done():
	}
	cancel()
	wg.Wait()
	return errors.Join(errs...)
}

// Every runs fn now and then every d until ctx ends, logging failures: the
// shape of most leader jobs.
func Every(d time.Duration, name string, log *slog.Logger, fn func(context.Context) error) Job {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return Plain(func(ctx context.Context) {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				log.Error("leader: job failed", "job", name, "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
}
