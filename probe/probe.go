// Package probe measures one NTP server the way the pool's monitors do
// (../shared/POOL.md): a few queries spaced apart, each with its own timeout;
// a kiss-o'-death or an unusable stratum ends the probe at once; otherwise the
// error-free sample with the lowest round-trip time wins, and when every
// sample failed a reply that arrived but was rejected beats silence.
//
// # Usage
//
//	p, err := probe.New(probe.Options{Samples: 3, Spacing: 2 * time.Second, Timeout: 3 * time.Second})
//	res, kind, err := p.Probe(ctx, netip.MustParseAddr("192.0.2.1"))
//
// The result is a monitorapi.Result without its ticket; kind names the
// outcome for metrics. Error texts are stable prefixes the control plane may
// match: "kiss-o'-death", "stratum", "no response", "malformed reply",
// "rejected reply", "not probed".
package probe

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/beevik/ntp"

	"github.com/ntppool-ng/ntppool/internal/netclass"
	"github.com/ntppool-ng/ntppool/monitorapi"
)

// MaxStratum is the highest stratum a probe accepts as a normal reply; a
// higher one (or 16, "unsynchronised") ends the probe (POOL.md).
const MaxStratum = 10

// Options are the probe rules. POOL.md's values are Samples 3, Spacing 2 s,
// Timeout 3 s; the control plane's Config sets them.
type Options struct {
	Samples int
	// Spacing is the pause from the end of one query to the start of the next.
	Spacing time.Duration
	// Timeout bounds each query.
	Timeout time.Duration
	// Port is the NTP port to query, 123 when 0 (tests use others).
	Port uint16
	// AllowPrivate lets the probe reach private, loopback and other
	// non-public addresses (a local development pool only).
	AllowPrivate bool
	// Source4 and Source6, when valid, are the local addresses queries to
	// servers of that family are sent from (a host with several addresses
	// probes from the one it registered).
	Source4, Source6 netip.Addr
}

// Defaults returns POOL.md's probe rules (monitorapi.DefaultProbe).
func Defaults() Options {
	d := monitorapi.DefaultProbe()
	return Options{Samples: d.Samples, Spacing: d.Spacing, Timeout: d.Timeout}
}

// FromConfig takes the probe rules from the control plane's configuration.
func FromConfig(c monitorapi.Config) Options {
	return Options{Samples: c.Samples, Spacing: c.Spacing.D(), Timeout: c.Timeout.D(), AllowPrivate: c.AllowPrivate}
}

// Prober runs probes; it is safe for concurrent use.
type Prober struct {
	opt Options
	now func() time.Time
}

// New checks the options and returns a Prober.
func New(opt Options) (*Prober, error) {
	switch {
	case opt.Samples < 1 || opt.Samples > 16:
		return nil, fmt.Errorf("probe: samples %d out of range 1..16", opt.Samples)
	case opt.Timeout <= 0:
		return nil, fmt.Errorf("probe: timeout %v must be positive", opt.Timeout)
	case opt.Spacing < 0:
		return nil, fmt.Errorf("probe: spacing %v must not be negative", opt.Spacing)
	case opt.Source4.IsValid() && !opt.Source4.Unmap().Is4():
		return nil, fmt.Errorf("probe: IPv4 source %s is not an IPv4 address", opt.Source4)
	case opt.Source6.IsValid() && (!opt.Source6.Is6() || opt.Source6.Is4In6()):
		return nil, fmt.Errorf("probe: IPv6 source %s is not an IPv6 address", opt.Source6)
	}
	if opt.Port == 0 {
		opt.Port = 123
	}
	return &Prober{opt: opt, now: time.Now}, nil
}

// Probe measures ip. The error is non-nil only when ctx ended the probe
// before its last sample: such a result must not be reported.
func (p *Prober) Probe(ctx context.Context, ip netip.Addr) (monitorapi.Result, Kind, error) {
	ip = ip.Unmap()
	res := monitorapi.Result{IP: ip}
	if why := p.refuse(ip); why != "" {
		res.Time = p.now().UTC()
		res.Error = "not probed: " + why
		return res, KindNotPublic, nil
	}
	addr := netip.AddrPortFrom(ip, p.opt.Port).String()
	local := ""
	if src := p.source(ip); src.IsValid() {
		local = src.Unmap().String()
	}
	samples := make([]sample, 0, p.opt.Samples)
	for i := range p.opt.Samples {
		if i > 0 && p.opt.Spacing > 0 {
			t := time.NewTimer(p.opt.Spacing)
			select {
			case <-ctx.Done():
				t.Stop()
				return res, "", fmt.Errorf("probe %s: %w", ip, ctx.Err())
			case <-t.C:
			}
		} else if err := ctx.Err(); err != nil {
			return res, "", fmt.Errorf("probe %s: %w", ip, err)
		}
		s := query(addr, local, p.opt.Timeout)
		samples = append(samples, s)
		if s.kind == KindKissOfDeath || s.kind == KindBadStratum {
			break
		}
	}
	best := pick(samples)
	fill(&res, best)
	res.Time = p.now().UTC()
	return res, best.kind, nil
}

// refuse says why ip must not be probed, or "".
func (p *Prober) refuse(ip netip.Addr) string {
	if !ip.IsValid() {
		return "invalid address"
	}
	if p.opt.AllowPrivate {
		return ""
	}
	if err := netclass.Check(ip); err != nil {
		return err.Error()
	}
	return ""
}

// sample is one query's outcome.
type sample struct {
	resp *ntp.Response
	err  error
	kind Kind
}

// source is the local address to probe ip from (invalid: the system's
// choice).
func (p *Prober) source(ip netip.Addr) netip.Addr {
	if ip.Is4() {
		return p.opt.Source4
	}
	return p.opt.Source6
}

func query(addr, local string, timeout time.Duration) sample {
	resp, err := ntp.QueryWithOptions(addr, ntp.QueryOptions{Timeout: timeout, LocalAddress: local})
	if err != nil {
		return sample{err: err, kind: classify(err)}
	}
	s := sample{resp: resp, kind: KindOK}
	switch {
	case resp.Stratum == 0:
		s.kind = KindKissOfDeath
	case resp.Stratum > MaxStratum:
		s.kind = KindBadStratum
	default:
		// The pool does not score the leap indicator, so leap 3 is reported
		// as a normal reply with Leap set; the control plane decides.
		if err := resp.Validate(); err != nil && !errors.Is(err, ntp.ErrInvalidLeapSecond) {
			s.err, s.kind = err, KindRejected
		}
	}
	return s
}

// pick applies POOL.md's best-sample rule. samples is never empty.
func pick(samples []sample) sample {
	last := samples[len(samples)-1]
	if last.kind == KindKissOfDeath || last.kind == KindBadStratum {
		return last
	}
	var best *sample
	for i := range samples {
		s := &samples[i]
		if best == nil || s.kind.rank() > best.kind.rank() ||
			(s.kind == KindOK && best.kind == KindOK && s.resp.RTT < best.resp.RTT) {
			best = s
		}
	}
	return *best
}

// fill copies a sample into the result, with the error text for its kind.
func fill(res *monitorapi.Result, s sample) {
	if r := s.resp; r != nil {
		rtt := r.RTT.Seconds()
		res.RTT = &rtt
		res.Stratum = int(r.Stratum)
		res.Leap = int(r.Leap)
		res.RefID = refID(r)
		if s.kind == KindOK || s.kind == KindBadStratum {
			off := r.ClockOffset.Seconds()
			res.Offset = &off
		}
	}
	switch s.kind {
	case KindOK:
	case KindKissOfDeath:
		res.KissCode = s.resp.KissCode
		if res.KissCode == "" {
			res.Error = fmt.Sprintf("kiss-o'-death with an invalid code %s", res.RefID)
		} else {
			res.Error = "kiss-o'-death " + res.KissCode
		}
	case KindBadStratum:
		res.Error = fmt.Sprintf("stratum %d above %d", s.resp.Stratum, MaxStratum)
		if s.resp.Stratum >= 16 {
			res.Error = fmt.Sprintf("stratum %d (unsynchronised)", s.resp.Stratum)
		}
	case KindRejected:
		// The pool scores a reply the NTP library rejects as no response.
		res.NoResponse = true
		res.Offset = nil
		res.Error = "rejected reply: " + s.err.Error()
	case KindMalformed:
		res.NoResponse = true
		res.Error = "malformed reply: " + s.err.Error()
	default:
		res.NoResponse = true
		res.Error = "no response: " + s.kind.text(s.err)
	}
}

// refID formats the reference id: 4 ASCII characters at stratum 0 and 1 (when
// printable), an IPv4 address or hash otherwise.
func refID(r *ntp.Response) string {
	id := r.ReferenceID
	if r.Stratum > 1 {
		return r.ReferenceString()
	}
	b := []byte{byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	for _, c := range b {
		if c < 32 || c > 126 {
			return fmt.Sprintf("0x%08x", id)
		}
	}
	return string(b)
}
