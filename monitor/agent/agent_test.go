package agent

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/ntppool-ng/ntppool/internal/chronytest"
	"github.com/ntppool-ng/ntppool/internal/ntpserver"
	testwait "github.com/ntppool-ng/ntppool/internal/wait"
	"github.com/ntppool-ng/ntppool/monitor/client"
	"github.com/ntppool-ng/ntppool/monitor/internal/fakecp"
	"github.com/ntppool-ng/ntppool/monitor/metrics"
	"github.com/ntppool-ng/ntppool/monitor/queue"
	"github.com/ntppool-ng/ntppool/monitorapi"
)

// fastConfig is POOL.md's probe rules on a fast clock.
func fastConfig() monitorapi.Config {
	return monitorapi.Config{MonitorID: 7, Name: "test", Samples: 3,
		Spacing: monitorapi.Duration(50 * time.Millisecond), Timeout: monitorapi.Duration(300 * time.Millisecond),
		BatchMax: 10, IdlePoll: monitorapi.Duration(50 * time.Millisecond), AllowPrivate: true,
		BaseMaxOffset: monitorapi.Duration(10 * time.Millisecond), BaseCheckTTL: monitorapi.Duration(time.Minute)}
}

// responders starts servers on 127.0.<net>.1, .2, ... sharing one port.
func responders(t *testing.T, net byte, cfgs ...ntpserver.Config) (uint16, []netip.Addr, []*ntpserver.Server) {
	t.Helper()
	var addrs []netip.Addr
	for i := range cfgs {
		addrs = append(addrs, netip.AddrFrom4([4]byte{127, 0, net, byte(i + 1)}))
	}
	all, err := ntpserver.ListenSamePort(addrs, cfgs)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		t.Cleanup(func() { s.Close() })
	}
	return all[0].Addr().Port(), addrs, all
}

// cpServer serves a fakecp on a fixed address that can go down and up.
type cpServer struct {
	t    *testing.T
	cp   *fakecp.Server
	addr string
	mu   sync.Mutex
	srv  *http.Server
	// closeCut stops the listener of cut.
	closeCut func()
}

func startCP(t *testing.T, cp *fakecp.Server) *cpServer {
	c := &cpServer{t: t, cp: cp, addr: "127.0.0.1:0"}
	c.up()
	t.Cleanup(func() {
		c.down()
		c.mu.Lock()
		if c.closeCut != nil {
			c.closeCut()
		}
		c.mu.Unlock()
	})
	return c
}

func (c *cpServer) up() {
	c.mu.Lock()
	if c.closeCut != nil {
		c.closeCut()
		c.closeCut = nil
	}
	c.mu.Unlock()
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		c.t.Fatal(err)
	}
	c.addr = ln.Addr().String()
	c.mu.Lock()
	c.srv = &http.Server{Handler: c.cp}
	srv := c.srv
	c.mu.Unlock()
	go srv.Serve(ln)
}

func (c *cpServer) down() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.srv != nil {
		c.srv.Close()
		c.srv = nil
	}
}

// cut replaces the control plane with a listener that accepts connections
// and closes them at once (a network failure), until up is called. It
// returns the count of connections cut.
func (c *cpServer) cut() *atomic.Int32 {
	c.down()
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		c.t.Fatal(err)
	}
	var n atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			conn.Close()
		}
	}()
	c.mu.Lock()
	c.closeCut = func() { ln.Close(); <-done }
	c.mu.Unlock()
	return &n
}

func (c *cpServer) url() string { return "http://" + c.addr + "/" }

type harness struct {
	agent *Agent
	q     *queue.Queue
	m     *metrics.Metrics
	done  chan error
	stop  context.CancelFunc
}

func runAgent(t *testing.T, url, token, dir string, port uint16, edit func(*Options)) *harness {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	api, err := client.New(client.Options{BaseURL: url, Token: token, Log: log,
		MinBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	q, err := queue.Open(dir, 1000, log)
	if err != nil {
		t.Fatal(err)
	}
	m := metrics.New(prometheus.NewRegistry())
	opt := Options{API: api, Queue: q, Metrics: m, Log: log, Concurrency: 50, Jitter: 20 * time.Millisecond,
		NTPPort: port, SkipClockCheck: true, DrainTimeout: 5 * time.Second, FlushTimeout: 2 * time.Second}
	if edit != nil {
		edit(&opt)
	}
	a, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{agent: a, q: q, m: m, done: make(chan error, 1), stop: cancel}
	go func() { h.done <- a.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(20 * time.Second):
			t.Error("agent did not stop")
		}
	})
	return h
}

// shutdown cancels the agent and waits for Run.
func (h *harness) shutdown(t *testing.T) error {
	t.Helper()
	h.stop()
	select {
	case err := <-h.done:
		h.done <- err // for the cleanup
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("agent did not stop within 20 s")
		return nil
	}
}

func eventually(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	testwait.For(t, d, what, cond)
}

func value(c prometheus.Collector) float64 {
	ch := make(chan prometheus.Metric, 1)
	c.Collect(ch)
	var m dto.Metric
	(<-ch).Write(&m)
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	}
	return -1
}

func TestAgentReportsWhatServersSay(t *testing.T) {
	port, ips, _ := responders(t, 71,
		ntpserver.Config{},
		ntpserver.Config{Offset: 100 * time.Millisecond},
		ntpserver.Config{Offset: 2 * time.Second},
		ntpserver.Config{Stratum: 16},
		ntpserver.Config{Leap: 3},
		ntpserver.Config{KissCode: "RATE"},
		ntpserver.Config{KissCode: "DENY"},
		ntpserver.Config{Silent: true},
	)
	chrony := chronytest.Start(t, "127.0.0.79")
	cfg := fastConfig()
	cfg.BaseServers = []string{chrony.Addr.String()}
	cp := fakecp.New("tok", cfg, ips, time.Hour)
	cp.MaxBatches = 1
	srv := startCP(t, cp)
	h := runAgent(t, srv.url(), "tok", t.TempDir(), port, func(o *Options) { o.SkipClockCheck = false })
	eventually(t, "the batch to be committed and acknowledged", 10*time.Second, func() bool {
		return cp.Stats().Committed == 1 && value(h.m.LastSubmit) != 0
	})

	got := map[netip.Addr]monitorapi.Result{}
	for _, r := range cp.Handed()[0].Results {
		got[r.IP] = r
	}
	off := func(r monitorapi.Result) float64 {
		if r.Offset == nil {
			return -99
		}
		return *r.Offset
	}
	near := func(a, b float64) bool { return a-b < 0.02 && b-a < 0.02 }
	checks := []struct {
		ok   func(monitorapi.Result) bool
		desc string
	}{
		{func(r monitorapi.Result) bool { return near(off(r), 0) && r.Stratum == 2 && r.Error == "" }, "healthy"},
		{func(r monitorapi.Result) bool { return near(off(r), 0.1) && r.Error == "" }, "100 ms ahead"},
		{func(r monitorapi.Result) bool { return near(off(r), 2) && r.Error == "" }, "2 s ahead"},
		{func(r monitorapi.Result) bool { return r.Stratum == 16 && strings.HasPrefix(r.Error, "stratum 16") }, "stratum 16"},
		{func(r monitorapi.Result) bool { return r.Leap == 3 && near(off(r), 0) && r.Error == "" }, "leap alarm"},
		{func(r monitorapi.Result) bool { return r.KissCode == "RATE" && r.Stratum == 0 && r.Offset == nil }, "KoD RATE"},
		{func(r monitorapi.Result) bool { return r.KissCode == "DENY" && r.Error == "kiss-o'-death DENY" }, "KoD DENY"},
		{func(r monitorapi.Result) bool {
			return r.NoResponse && r.Error == "no response: timeout" && r.RTT == nil
		}, "silence"},
	}
	for i, c := range checks {
		r, ok := got[ips[i]]
		if !ok || !c.ok(r) || r.Ticket == "" || r.Time.IsZero() {
			t.Errorf("%s (%s): %+v", c.desc, ips[i], r)
		}
	}
	if v := value(h.m.Probes.WithLabelValues("ok")); v != 4 {
		t.Errorf("ok probes %v, want 4", v)
	}
	if v := value(h.m.Probes.WithLabelValues("kod")); v != 2 {
		t.Errorf("kod probes %v, want 2", v)
	}
	if value(h.m.ClockTrusted) != 1 || value(h.m.LastSubmit) == 0 {
		t.Errorf("clock trusted %v, last submit %v", value(h.m.ClockTrusted), value(h.m.LastSubmit))
	}
}

func TestAgentRefusesToProbeWithBadClock(t *testing.T) {
	basePort, bases, _ := responders(t, 72, ntpserver.Config{Offset: time.Second}, ntpserver.Config{Offset: time.Second}, ntpserver.Config{})
	port, ips, targets := responders(t, 73, ntpserver.Config{})
	cfg := fastConfig()
	for _, b := range bases {
		cfg.BaseServers = append(cfg.BaseServers, netip.AddrPortFrom(b, basePort).String())
	}
	cfg.BaseCheckTTL = monitorapi.Duration(time.Millisecond)
	cp := fakecp.New("tok", cfg, ips, time.Hour)
	srv := startCP(t, cp)
	h := runAgent(t, srv.url(), "tok", t.TempDir(), port, func(o *Options) { o.SkipClockCheck = false })
	eventually(t, "two clock checks", 10*time.Second, func() bool {
		return value(h.m.WorkWaits.WithLabelValues("clock")) >= 2
	})
	if value(h.m.ClockTrusted) != 0 || cp.Stats().Handed != 0 || targets[0].Served() != 0 {
		t.Fatalf("trusted %v, handed %d, probed %d: a monitor with a bad clock worked", value(h.m.ClockTrusted), cp.Stats().Handed, targets[0].Served())
	}
	if off := value(h.m.ClockOffset); off < 0.9 || off > 1.1 {
		t.Errorf("clock offset metric %v, want about 1 s", off)
	}
}

func TestAgentStopsOnBadToken(t *testing.T) {
	cp := fakecp.New("right", fastConfig(), nil, time.Hour)
	srv := startCP(t, cp)
	h := runAgent(t, srv.url(), "wrong", t.TempDir(), 123, nil)
	select {
	case err := <-h.done:
		h.done <- err
		if se, ok := errors.AsType[*client.StatusError](err); !ok || se.Status != 401 {
			t.Fatalf("err %v, want a 401", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("agent kept running with a refused token")
	}
}

// TestOutageDeliversEverythingOnce: the control plane answers 503 to
// submissions, then drops every connection, then comes back losing two
// acknowledgements: every batch handed out is committed exactly once.
func TestOutageDeliversEverythingOnce(t *testing.T) {
	cfgs := make([]ntpserver.Config, 12)
	port, ips, _ := responders(t, 74, cfgs...)
	cfg := fastConfig()
	cfg.BatchMax = 3
	cp := fakecp.New("tok", cfg, ips, 300*time.Millisecond)
	cp.MaxBatches = 40
	srv := startCP(t, cp)
	h := runAgent(t, srv.url(), "tok", t.TempDir(), port, nil)

	eventually(t, "a first delivery", 10*time.Second, func() bool { return cp.Stats().Committed >= 3 })
	cp.FailResults.Store(http.StatusServiceUnavailable)
	eventually(t, "results queued while submissions get 503", 10*time.Second, func() bool {
		return h.q.Len() >= 3 && cp.Stats().Failed >= 3
	})
	cuts := srv.cut()
	eventually(t, "the agent retrying through a network outage", 10*time.Second, func() bool { return cuts.Load() >= 5 })
	srv.up()
	cp.FailResults.Store(0)
	cp.LoseAcks.Store(2)
	eventually(t, "every batch handed out and committed", 30*time.Second, func() bool {
		s := cp.Stats()
		return s.Handed == cp.MaxBatches && s.Committed == s.Handed && h.q.Len() == 0
	})
	if err := h.shutdown(t); err != nil {
		t.Fatal(err)
	}
	s := cp.Stats()
	want := 0
	for _, b := range cp.Handed() {
		want += len(b.Tickets)
		if !b.Committed || len(b.Results) != len(b.Tickets) {
			t.Errorf("batch %s: committed %v with %d of %d results", b.ID, b.Committed, len(b.Results), len(b.Tickets))
		}
	}
	if s.Results != want || s.Duplicates < 2 || s.Stale != 0 || s.Refused != 0 {
		t.Errorf("stats %+v, want %d results, ≥2 duplicates, nothing stale or refused", s, want)
	}
	if v := value(h.m.Batches.WithLabelValues(metrics.BatchDuplicate)); v < 2 {
		t.Errorf("duplicate acks counted %v", v)
	}
}

// TestShutdownKeepsQueueForNextStart: SIGTERM-like cancel while the control
// plane refuses submissions with 503; the next agent delivers the queue.
func TestShutdownKeepsQueueForNextStart(t *testing.T) {
	port, ips, _ := responders(t, 75, make([]ntpserver.Config, 4)...)
	cfg := fastConfig()
	cfg.BatchMax = 2
	cp := fakecp.New("tok", cfg, ips, time.Hour)
	cp.MaxBatches = 2
	cp.FailResults.Store(http.StatusServiceUnavailable)
	srv := startCP(t, cp)
	dir := t.TempDir()
	h := runAgent(t, srv.url(), "tok", dir, port, nil)
	eventually(t, "both batches queued", 10*time.Second, func() bool { return h.q.Len() == 2 })
	start := time.Now()
	if err := h.shutdown(t); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("shutdown took %v", d)
	}
	cp.FailResults.Store(0)
	h2 := runAgent(t, srv.url(), "tok", dir, port, nil)
	eventually(t, "the queue delivered by the next agent", 10*time.Second, func() bool {
		return cp.Stats().Committed == 2 && h2.q.Len() == 0
	})
}

// TestRefusedBatchIsDroppedNotRetried: a 403 on a submission is final.
func TestRefusedBatchIsDroppedNotRetried(t *testing.T) {
	port, ips, _ := responders(t, 76, ntpserver.Config{})
	cp := fakecp.New("tok", fastConfig(), ips, time.Hour)
	cp.MaxBatches = 1
	cp.FailResults.Store(http.StatusForbidden)
	srv := startCP(t, cp)
	h := runAgent(t, srv.url(), "tok", t.TempDir(), port, nil)
	eventually(t, "the batch refused", 10*time.Second, func() bool {
		return value(h.m.Batches.WithLabelValues(metrics.BatchRefused)) == 1 && h.q.Len() == 0
	})
	if f := cp.Stats().Failed; f != 1 {
		t.Errorf("%d submissions of a refused batch, want 1", f)
	}
}

// TestQueueFullStopsFetching: while submissions fail and the queue is at its
// bound, the agent asks for no more work.
func TestQueueFullStopsFetching(t *testing.T) {
	port, ips, _ := responders(t, 77, make([]ntpserver.Config, 6)...)
	cfg := fastConfig()
	cfg.BatchMax = 1
	cp := fakecp.New("tok", cfg, ips, time.Hour)
	cp.FailResults.Store(http.StatusServiceUnavailable)
	srv := startCP(t, cp)
	small, err := queue.Open(t.TempDir(), 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := runAgent(t, srv.url(), "tok", t.TempDir(), port, func(o *Options) { o.Queue = small })
	eventually(t, "the agent to wait on a full queue", 10*time.Second, func() bool {
		return small.Len() == 2 && value(h.m.WorkWaits.WithLabelValues("queue_full")) >= 3
	})
	if n := cp.Stats().Handed; n != 2 || small.Len() != 2 {
		t.Fatalf("%d batches handed out, %d queued, want 2 and 2", n, small.Len())
	}
	cp.FailResults.Store(0)
	eventually(t, "every server handed out once the queue drains", 10*time.Second, func() bool {
		return cp.Stats().Committed == len(ips)
	})
}
