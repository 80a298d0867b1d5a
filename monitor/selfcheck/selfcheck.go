// Package selfcheck decides whether the monitor's own clock can be trusted,
// since a monitor with a wrong clock would penalise every server it probes.
// As POOL.md describes: each base server must answer with an offset within
// MaxOffset and leap indicator ≠ 3, a strict majority of them must pass, and
// the verdict is cached for TTL. With no base servers the kernel's own
// synchronisation state decides (adjtimex: not STA_UNSYNC).
package selfcheck

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/beevik/ntp"
)

// Options configure a Checker; POOL.md's values are 10 ms and 3 minutes.
type Options struct {
	// Servers are base NTP servers as "host:port".
	Servers   []string
	MaxOffset time.Duration
	TTL       time.Duration
	// Timeout bounds each query (2 s when 0).
	Timeout time.Duration
}

// Verdict is the outcome of one check.
type Verdict struct {
	Trusted bool
	// Offset is the median offset of the base servers that answered (server
	// minus own clock); from the kernel when no base servers are set.
	Offset time.Duration
	// HaveOffset is false when no base server answered.
	HaveOffset     bool
	Passed, Total  int
	Reason         string // why not trusted, or which source decided
	At             time.Time
	ServerFailures []string
}

// Checker caches the verdict; safe for concurrent use.
type Checker struct {
	now    func() time.Time
	query  func(addr string, timeout time.Duration) (*ntp.Response, error)
	kernel func() (synced bool, offset time.Duration, err error)

	mu   sync.Mutex
	opt  Options
	last *Verdict
}

// New returns a Checker.
func New(opt Options) *Checker {
	c := &Checker{now: time.Now, kernel: kernelState, query: func(addr string, timeout time.Duration) (*ntp.Response, error) {
		return ntp.QueryWithOptions(addr, ntp.QueryOptions{Timeout: timeout})
	}}
	c.SetOptions(opt)
	return c
}

// SetOptions replaces the options (the control plane's config changed); a
// change of servers or threshold drops the cached verdict.
func (c *Checker) SetOptions(opt Options) {
	if opt.Timeout <= 0 {
		opt.Timeout = 2 * time.Second
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Equal(opt.Servers, c.opt.Servers) || opt.MaxOffset != c.opt.MaxOffset {
		c.last = nil
	}
	c.opt = opt
}

// Check returns the cached verdict while it is younger than TTL, or checks
// again. Concurrent callers share one check.
func (c *Checker) Check(ctx context.Context) Verdict {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last != nil && c.now().Sub(c.last.At) < c.opt.TTL {
		return *c.last
	}
	var v Verdict
	if len(c.opt.Servers) == 0 {
		v = c.checkKernel()
	} else {
		v = c.checkServers(ctx, c.opt)
	}
	v.At = c.now()
	if ctx.Err() == nil { // an interrupted check says nothing
		c.last = &v
	}
	return v
}

func (c *Checker) checkKernel() Verdict {
	synced, off, err := c.kernel()
	v := Verdict{Total: 1, Offset: off, HaveOffset: err == nil}
	switch {
	case err != nil:
		v.Reason = fmt.Sprintf("no base servers and the kernel state is unreadable: %v", err)
	case !synced:
		v.Reason = "no base servers and the kernel clock is not synchronised"
	default:
		v.Trusted, v.Passed, v.Reason = true, 1, "kernel clock synchronised"
	}
	return v
}

func (c *Checker) checkServers(ctx context.Context, opt Options) Verdict {
	type answer struct {
		off      time.Duration
		answered bool // a reply arrived, so off means something
		ok       bool
		why      string
	}
	answers := make([]answer, len(opt.Servers))
	var wg sync.WaitGroup
	for i, s := range opt.Servers {
		wg.Go(func() {
			if ctx.Err() != nil {
				answers[i].why = s + ": " + ctx.Err().Error()
				return
			}
			r, err := c.query(s, opt.Timeout)
			if err != nil {
				answers[i] = answer{why: fmt.Sprintf("%s: %v", s, err)}
				return
			}
			a := answer{off: r.ClockOffset, answered: true, ok: true}
			if err := r.Validate(); err != nil && !errors.Is(err, ntp.ErrInvalidLeapSecond) {
				a.ok, a.why = false, fmt.Sprintf("%s: %v", s, err)
			}
			switch {
			case r.Leap == ntp.LeapNotInSync:
				a.ok, a.why = false, s+": leap indicator 3 (not synchronised)"
			case r.ClockOffset.Abs() > opt.MaxOffset:
				a.ok, a.why = false, fmt.Sprintf("%s: offset %v beyond %v", s, r.ClockOffset, opt.MaxOffset)
			}
			answers[i] = a
		})
	}
	wg.Wait()
	v := Verdict{Total: len(answers)}
	var offs []time.Duration
	for _, a := range answers {
		if a.ok {
			v.Passed++
		} else {
			v.ServerFailures = append(v.ServerFailures, a.why)
		}
		if a.answered {
			offs = append(offs, a.off)
		}
	}
	if len(offs) > 0 {
		slices.Sort(offs)
		v.Offset, v.HaveOffset = offs[len(offs)/2], true
	}
	v.Trusted = 2*v.Passed > v.Total
	if v.Trusted {
		v.Reason = fmt.Sprintf("%d of %d base servers agree", v.Passed, v.Total)
	} else {
		v.Reason = fmt.Sprintf("only %d of %d base servers agree with our clock (need a strict majority): %s",
			v.Passed, v.Total, strings.Join(v.ServerFailures, "; "))
	}
	return v
}
