// Package agent is the monitor's main loop: fetch the configuration, check
// the own clock, fetch work, probe each server with bounded concurrency and a
// random start delay (so probes spread over time rather than leave in
// bursts), store each finished batch in the disk queue, and submit the queue
// in order.
//
// # Usage
//
// The monitor binary wires it up from flags; a one-machine pool can run it
// in-process the same way:
//
//	api, _ := client.New(client.Options{BaseURL: "http://127.0.0.1:8080/", Token: token})
//	q, _ := queue.Open(filepath.Join(dir, "queue"), 10000, log)
//	a, _ := agent.New(agent.Options{API: api, Queue: q, Metrics: metrics.New(prometheus.NewRegistry()),
//		Log: log, Concurrency: 50, AllowPrivate: true})
//	err := a.Run(ctx) // returns after ctx ends and the queue is flushed or stored
//
// With no base servers in the control plane's config (nor Options.BaseServers)
// the own clock is judged by the kernel's synchronisation state; a machine
// whose kernel clock is not synchronised refuses to probe unless
// SkipClockCheck is set.
//
// # Shutdown
//
// When Run's context ends the agent stops fetching work, lets the probes in
// flight finish (up to DrainTimeout), stores their batches, tries to deliver
// the queue for up to FlushTimeout, and returns. Whatever is not delivered
// stays on disk for the next start.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ntppool-ng/ntppool/monitor/client"
	"github.com/ntppool-ng/ntppool/monitor/metrics"
	"github.com/ntppool-ng/ntppool/monitor/queue"
	"github.com/ntppool-ng/ntppool/monitor/selfcheck"
	"github.com/ntppool-ng/ntppool/monitorapi"
	"github.com/ntppool-ng/ntppool/probe"
)

// API is the part of the monitor API the agent uses (client.Client).
type API interface {
	Config(context.Context) (monitorapi.Config, error)
	Work(context.Context) (monitorapi.Work, error)
	Submit(context.Context, monitorapi.Results) (monitorapi.Ack, error)
}

// Options configure an Agent. API, Queue and Metrics are required.
type Options struct {
	API     API
	Queue   *queue.Queue
	Metrics *metrics.Metrics
	Log     *slog.Logger
	// Concurrency bounds the servers handled at once (probing or waiting
	// for their start jitter).
	Concurrency int
	// Jitter is the longest random delay before a probe starts; 0 means the
	// probe spacing, negative means none.
	Jitter time.Duration
	// AllowPrivate lets the agent probe non-public addresses even when the
	// control plane's config does not.
	AllowPrivate bool
	// NTPPort is the port probed (123 when 0; tests use others).
	NTPPort uint16
	// BaseServers, when set, replace the config's clock-check servers.
	BaseServers []string
	// Samples, Spacing and Timeout, when set, replace the config's probe
	// settings (a local override; normally the control plane's apply).
	Samples          int
	Spacing, Timeout time.Duration
	// Source4 and Source6, when valid, are the local addresses to probe
	// each family from. Unset, the agent uses the monitor's registered
	// address of the family when this host has it, else the system's choice.
	Source4, Source6 netip.Addr
	// SkipClockCheck trusts the own clock without checking (development).
	SkipClockCheck bool
	// ConfigRefresh is how often the config is fetched again (10 min).
	ConfigRefresh time.Duration
	// ClockRecheck bounds the wait before an untrusted clock is checked
	// again (30 s; the config's idle poll when shorter).
	ClockRecheck time.Duration
	// RefusedWait is the pause after the control plane refused to hand out
	// work with a 4xx other than 401 (1 min; the idle poll when longer).
	RefusedWait time.Duration
	// DrainTimeout bounds the wait for probes in flight at shutdown (30 s);
	// FlushTimeout the last delivery attempt (5 s).
	DrainTimeout, FlushTimeout time.Duration
	// Rand draws the jitter; nil means a random source.
	Rand *rand.Rand
}

// Agent runs the loop; create it with New.
type Agent struct {
	opt    Options
	log    *slog.Logger
	m      *metrics.Metrics
	q      *queue.Queue
	clock  *selfcheck.Checker
	state  atomic.Pointer[state]
	randMu sync.Mutex
	// fatal carries an error that must stop the agent (a refused token).
	fatal chan error
}

// state is derived from one config; swapped whole on refresh.
type state struct {
	cfg     monitorapi.Config
	prober  *probe.Prober
	jitter  time.Duration
	fetched time.Time
}

// New checks the options.
func New(opt Options) (*Agent, error) {
	if opt.API == nil || opt.Queue == nil || opt.Metrics == nil {
		return nil, errors.New("agent: API, Queue and Metrics are required")
	}
	if opt.Concurrency < 1 {
		return nil, fmt.Errorf("agent: concurrency %d must be at least 1", opt.Concurrency)
	}
	if opt.Log == nil {
		opt.Log = slog.New(slog.DiscardHandler)
	}
	if opt.ConfigRefresh <= 0 {
		opt.ConfigRefresh = 10 * time.Minute
	}
	if opt.ClockRecheck <= 0 {
		opt.ClockRecheck = 30 * time.Second
	}
	if opt.RefusedWait <= 0 {
		opt.RefusedWait = time.Minute
	}
	if opt.DrainTimeout <= 0 {
		opt.DrainTimeout = 30 * time.Second
	}
	if opt.FlushTimeout <= 0 {
		opt.FlushTimeout = 5 * time.Second
	}
	if opt.Rand == nil {
		opt.Rand = rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())) // #nosec G404 -- jitter, not security
	}
	for _, k := range probe.Kinds {
		opt.Metrics.Probes.WithLabelValues(string(k))
	}
	for _, o := range []string{metrics.BatchAccepted, metrics.BatchDuplicate, metrics.BatchRefused} {
		opt.Metrics.Batches.WithLabelValues(o)
	}
	return &Agent{opt: opt, log: opt.Log, m: opt.Metrics, q: opt.Queue, clock: selfcheck.New(selfcheck.Options{}),
		fatal: make(chan error, 1)}, nil
}

// Run works until ctx ends (then shuts down cleanly and returns nil) or a
// fatal error: the control plane refused the token.
func (a *Agent) Run(ctx context.Context) error {
	a.m.QueueBatches.Set(float64(a.q.Len()))
	cfg, err := a.firstConfig(ctx)
	if err != nil || ctx.Err() != nil {
		return err
	}
	if err := a.apply(cfg); err != nil {
		return err
	}

	subCtx, stopSubmit := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSubmit()
	flushing := make(chan struct{})
	subDone := make(chan struct{})
	go func() { defer close(subDone); a.submitLoop(subCtx, flushing) }()

	// Probes outlive ctx so that a shutdown can finish the batches in flight.
	probeCtx, stopProbes := context.WithCancel(context.WithoutCancel(ctx))
	defer stopProbes()
	var g errgroup.Group
	g.SetLimit(a.opt.Concurrency)

	fatal := a.fetchLoop(ctx, probeCtx, &g)

	// Shutdown: finish the probes in flight, then try to deliver.
	a.log.Info("stopping: finishing probes in flight", "in_flight", a.q.Reserved())
	probesDone := make(chan struct{})
	go func() { g.Wait(); close(probesDone) }()
	select {
	case <-probesDone:
	case <-time.After(a.opt.DrainTimeout):
		a.log.Warn("stopping: probes still running after the drain timeout, their batches are dropped", "timeout", a.opt.DrainTimeout)
		stopProbes()
		<-probesDone
	}
	close(flushing)
	select {
	case <-subDone:
	case <-time.After(a.opt.FlushTimeout):
		stopSubmit()
		<-subDone
	}
	a.log.Info("stopped", "queued_batches", a.q.Len())
	return fatal
}

// firstConfig fetches the config to start with. A 401 is fatal; another
// 4xx (a paused monitor, say) is waited out, RefusedWait at a time.
func (a *Agent) firstConfig(ctx context.Context) (monitorapi.Config, error) {
	for {
		cfg, err := a.opt.API.Config(ctx)
		se, isStatus := errors.AsType[*client.StatusError](err)
		switch {
		case err == nil:
			return cfg, nil
		case ctx.Err() != nil:
			return cfg, nil
		case isStatus && se.Status != http.StatusUnauthorized:
			a.m.WorkWaits.WithLabelValues("api_refused").Inc()
			wait(ctx, a.opt.RefusedWait, nil)
		default:
			return cfg, fmt.Errorf("agent: fetch config: %w", err)
		}
	}
}

// apply derives the agent's state from a config.
func (a *Agent) apply(cfg monitorapi.Config) error {
	opt := probe.FromConfig(cfg)
	def := probe.Defaults()
	if opt.Samples == 0 { // no probe rules in the config: POOL.md's
		opt.Samples, opt.Spacing, opt.Timeout = def.Samples, def.Spacing, def.Timeout
	}
	if opt.Timeout == 0 {
		opt.Timeout = def.Timeout
	}
	if a.opt.Samples > 0 {
		opt.Samples = a.opt.Samples
	}
	if a.opt.Spacing > 0 {
		opt.Spacing = a.opt.Spacing
	}
	if a.opt.Timeout > 0 {
		opt.Timeout = a.opt.Timeout
	}
	opt.AllowPrivate = opt.AllowPrivate || a.opt.AllowPrivate
	opt.Port = a.opt.NTPPort
	opt.Source4 = sourceAddr(a.opt.Source4, cfg.IP4)
	opt.Source6 = sourceAddr(a.opt.Source6, cfg.IP6)
	p, err := probe.New(opt)
	if err != nil {
		return fmt.Errorf("agent: config from the control plane: %w", err)
	}
	pd := monitorapi.DefaultProbe()
	if cfg.IdlePoll <= 0 {
		cfg.IdlePoll = monitorapi.Duration(pd.IdlePoll)
	}
	base := cfg.BaseServers
	if len(a.opt.BaseServers) > 0 {
		base = a.opt.BaseServers
	}
	maxOff, ttl := cfg.BaseMaxOffset.D(), cfg.BaseCheckTTL.D()
	if maxOff <= 0 {
		maxOff = pd.BaseMaxOffset
	}
	if ttl <= 0 {
		ttl = pd.BaseCheckTTL
	}
	a.clock.SetOptions(selfcheck.Options{Servers: base, MaxOffset: maxOff, TTL: ttl, Timeout: opt.Timeout})
	jitter := a.opt.Jitter
	if jitter == 0 {
		jitter = opt.Spacing
	}
	a.state.Store(&state{cfg: cfg, prober: p, jitter: max(jitter, 0), fetched: time.Now()})
	a.log.Info("configuration", "monitor_id", cfg.MonitorID, "name", cfg.Name, "samples", opt.Samples,
		"spacing", opt.Spacing, "timeout", opt.Timeout, "allow_private", opt.AllowPrivate,
		"base_servers", base, "concurrency", a.opt.Concurrency, "jitter", jitter,
		"ipv4", cfg.IPv4, "ipv6", cfg.IPv6, "source4", opt.Source4, "source6", opt.Source6,
		"leap_unsync_is_error", cfg.Score.LeapUnsyncIsError, "ramp_width", cfg.Score.RampWidth)
	return nil
}

// sourceAddr is the address to probe a family from: the local setting,
// else the registered address when this host can bind it (behind NAT it
// cannot), else none.
func sourceAddr(local, registered netip.Addr) netip.Addr {
	if local.IsValid() || !registered.IsValid() {
		return local
	}
	c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(registered, 0)))
	if err != nil {
		return netip.Addr{}
	}
	c.Close()
	return registered
}

// refreshConfig fetches the config again when it is old; failures keep the
// old one.
func (a *Agent) refreshConfig(ctx context.Context) {
	if time.Since(a.state.Load().fetched) < a.opt.ConfigRefresh {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cfg, err := a.opt.API.Config(rctx)
	if err == nil {
		err = a.apply(cfg)
	}
	if err != nil {
		a.log.Warn("config refresh failed, keeping the old one", "err", err)
		st := *a.state.Load()
		st.fetched = time.Now()
		a.state.Store(&st)
	}
}

// wait pauses for d, or until ctx ends or also is closed.
func wait(ctx context.Context, d time.Duration, also <-chan struct{}) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	case <-also:
	}
}

// fetchLoop fetches and dispatches work until ctx ends or a fatal error.
func (a *Agent) fetchLoop(ctx, probeCtx context.Context, g *errgroup.Group) error {
	trusted, full := true, false
	for ctx.Err() == nil {
		select {
		case err := <-a.fatal:
			return err
		default:
		}
		a.refreshConfig(ctx)
		st := a.state.Load()
		if !a.opt.SkipClockCheck {
			v := a.clock.Check(ctx)
			if v.HaveOffset {
				a.m.ClockOffset.Set(v.Offset.Seconds())
			}
			if !v.Trusted {
				a.m.ClockTrusted.Set(0)
				a.m.WorkWaits.WithLabelValues("clock").Inc()
				a.log.Warn("own clock not trusted: not probing", "reason", v.Reason)
				trusted = false
				wait(ctx, min(st.cfg.IdlePoll.D(), a.opt.ClockRecheck), nil)
				continue
			}
			if !trusted {
				a.log.Info("own clock trusted again", "reason", v.Reason)
			}
			trusted = true
		}
		a.m.ClockTrusted.Set(1)

		changed := a.q.Changed()
		seq, err := a.q.Reserve()
		if errors.Is(err, queue.ErrFull) {
			a.m.WorkWaits.WithLabelValues("queue_full").Inc()
			if !full {
				a.log.Warn("result queue full: not fetching work until it drains", "batches", a.q.Len())
			}
			full = true
			wait(ctx, st.cfg.IdlePoll.D(), changed)
			continue
		}
		full = false
		work, err := a.opt.API.Work(ctx)
		if err != nil {
			a.q.Release(seq)
			if ctx.Err() != nil {
				break
			}
			if se, ok := errors.AsType[*client.StatusError](err); ok && se.Status == http.StatusUnauthorized {
				return fmt.Errorf("agent: fetch work: %w", err)
			}
			a.m.WorkWaits.WithLabelValues("api_refused").Inc()
			wait(ctx, max(st.cfg.IdlePoll.D(), a.opt.RefusedWait), nil)
			continue
		}
		if len(work.Servers) == 0 || work.BatchID == "" {
			a.q.Release(seq)
			d := work.NextPoll.D()
			if d <= 0 {
				d = st.cfg.IdlePoll.D()
			}
			wait(ctx, d, nil)
			continue
		}
		a.dispatch(ctx, probeCtx, g, st, seq, work)
	}
	select {
	case err := <-a.fatal:
		return err
	default:
		return nil
	}
}

// batch collects the results of one work batch.
type batch struct {
	seq     uint64
	id      string
	results []monitorapi.Result
	left    atomic.Int32
	aborted atomic.Bool
}

// dispatch starts one probe per server; g.Go blocks while Concurrency
// servers are in hand, which is what paces the fetching.
func (a *Agent) dispatch(ctx, probeCtx context.Context, g *errgroup.Group, st *state, seq uint64, work monitorapi.Work) {
	b := &batch{seq: seq, id: work.BatchID, results: make([]monitorapi.Result, len(work.Servers))}
	b.left.Store(int32(len(work.Servers)))
	for i, as := range work.Servers {
		delay := a.jitter(st.jitter)
		g.Go(func() error {
			a.m.ProbesInFlight.Inc()
			defer a.m.ProbesInFlight.Dec()
			wait(ctx, delay, nil) // at shutdown, start at once rather than wait
			res, kind, err := st.prober.Probe(probeCtx, as.IP)
			if err != nil {
				b.aborted.Store(true)
			} else {
				a.m.Probes.WithLabelValues(string(kind)).Inc()
				res.Ticket = as.Ticket
				b.results[i] = res
			}
			if b.left.Add(-1) == 0 {
				a.store(b)
			}
			return nil
		})
	}
}

func (a *Agent) jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	a.randMu.Lock()
	defer a.randMu.Unlock()
	return time.Duration(a.opt.Rand.Int64N(int64(d)))
}

// store puts a finished batch in the queue; an aborted one is dropped (the
// control plane hands its servers out again).
func (a *Agent) store(b *batch) {
	if b.aborted.Load() {
		a.q.Release(b.seq)
		a.log.Info("batch dropped: probes interrupted by shutdown", "batch", b.id)
		return
	}
	if err := a.q.Put(b.seq, monitorapi.Results{BatchID: b.id, Results: b.results}); err != nil {
		a.q.Release(b.seq)
		a.log.Error("cannot store results, batch dropped", "batch", b.id, "err", err)
		return
	}
	a.m.QueueBatches.Set(float64(a.q.Len()))
}

// submitLoop delivers the queue in order until ctx ends, or, once flushing
// is closed, until nothing is left to deliver.
func (a *Agent) submitLoop(ctx context.Context, flushing <-chan struct{}) {
	for {
		changed := a.q.Changed()
		it, ok := a.q.Head()
		if !ok {
			select {
			case <-ctx.Done():
				return
			case <-flushing:
				// Probes have drained: nothing more will be stored.
				return
			case <-changed:
			}
			continue
		}
		ack, err := a.opt.API.Submit(ctx, it.Results)
		switch se, isStatus := errors.AsType[*client.StatusError](err); {
		case err == nil:
			outcome := metrics.BatchAccepted
			if ack.Duplicate {
				outcome = metrics.BatchDuplicate
			}
			a.m.Batches.WithLabelValues(outcome).Inc()
			a.m.LastSubmit.Set(float64(time.Now().UnixMilli()) / 1000)
			a.log.Debug("batch delivered", "batch", it.Results.BatchID, "accepted", ack.Accepted, "duplicate", ack.Duplicate)
		case ctx.Err() != nil:
			return
		case isStatus && se.Status == http.StatusUnauthorized:
			// Keep the batch: with a new token it may still be delivered.
			select {
			case a.fatal <- fmt.Errorf("agent: submit: %w", err):
			default:
			}
			return
		case isStatus:
			a.m.Batches.WithLabelValues(metrics.BatchRefused).Inc()
			a.log.Error("batch refused by the control plane, dropped", "batch", it.Results.BatchID, "status", se.Status, "err", se.Message)
		default:
			// Not retryable and not an answer (the batch cannot be encoded
			// or is too large): it would fail forever.
			a.m.Batches.WithLabelValues(metrics.BatchRefused).Inc()
			a.log.Error("batch cannot be submitted, dropped", "batch", it.Results.BatchID, "err", err)
		}
		if err := a.q.Delete(it.Seq); err != nil {
			a.log.Error("cannot delete a delivered batch", "err", err)
		}
		a.m.QueueBatches.Set(float64(a.q.Len()))
	}
}
