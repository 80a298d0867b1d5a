package probe

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/beevik/ntp"

	"github.com/ntppool-ng/ntppool/internal/chronytest"
	"github.com/ntppool-ng/ntppool/internal/ntpserver"
)

// fast keeps the suite quick: the rules are POOL.md's, the intervals short.
var fast = Options{Samples: 3, Spacing: 50 * time.Millisecond, Timeout: 300 * time.Millisecond, AllowPrivate: true}

func prober(t *testing.T, port uint16) *Prober {
	t.Helper()
	o := fast
	o.Port = port
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func responder(t *testing.T, addr string, cfg ntpserver.Config) *ntpserver.Server {
	t.Helper()
	s, err := ntpserver.Listen(addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestProbeRealChrony(t *testing.T) {
	c := chronytest.Start(t, "127.0.0.51")
	res, kind, err := prober(t, c.Addr.Port()).Probe(context.Background(), c.Addr.Addr())
	if err != nil || kind != KindOK {
		t.Fatalf("kind %q err %v res %+v", kind, err, res)
	}
	if res.Offset == nil || *res.Offset > 0.005 || *res.Offset < -0.005 {
		t.Errorf("offset %v, want within 5 ms", res.Offset)
	}
	if res.RTT == nil || *res.RTT <= 0 || *res.RTT > 0.05 {
		t.Errorf("rtt %v", res.RTT)
	}
	if res.Stratum != 2 || res.Leap != 0 || res.RefID == "" || res.Error != "" || res.NoResponse {
		t.Errorf("result %+v", res)
	}
	if res.IP != c.Addr.Addr() || time.Since(res.Time) > time.Minute {
		t.Errorf("ip %v time %v", res.IP, res.Time)
	}
}

func TestProbeRealChronyOverIPv6(t *testing.T) {
	c := chronytest.Start(t, "::1")
	res, kind, err := prober(t, c.Addr.Port()).Probe(context.Background(), c.Addr.Addr())
	if err != nil || kind != KindOK || res.Offset == nil || res.Stratum != 2 {
		t.Fatalf("kind %q err %v res %+v", kind, err, res)
	}
}

func TestProbeMisbehavingServers(t *testing.T) {
	for _, tc := range []struct {
		name       string
		cfg        ntpserver.Config
		kind       Kind
		offset     float64 // checked when hasOffset
		hasOffset  bool
		stratum    int
		leap       int
		kiss       string
		errPrefix  string
		noResponse bool
	}{
		{name: "offset100ms", cfg: ntpserver.Config{Offset: 100 * time.Millisecond}, kind: KindOK, offset: 0.1, hasOffset: true, stratum: 2},
		{name: "offset2s", cfg: ntpserver.Config{Offset: 2 * time.Second}, kind: KindOK, offset: 2, hasOffset: true, stratum: 2},
		{name: "behind2s", cfg: ntpserver.Config{Offset: -2 * time.Second}, kind: KindOK, offset: -2, hasOffset: true, stratum: 2},
		{name: "stratum9", cfg: ntpserver.Config{Stratum: 9}, kind: KindOK, hasOffset: true, stratum: 9},
		{name: "stratum12", cfg: ntpserver.Config{Stratum: 12}, kind: KindBadStratum, hasOffset: true, stratum: 12, errPrefix: "stratum 12 above 10"},
		{name: "stratum16", cfg: ntpserver.Config{Stratum: 16}, kind: KindBadStratum, hasOffset: true, stratum: 16, errPrefix: "stratum 16 (unsynchronised)"},
		{name: "leapalarm", cfg: ntpserver.Config{Leap: 3}, kind: KindOK, hasOffset: true, stratum: 2, leap: 3},
		{name: "kodRATE", cfg: ntpserver.Config{KissCode: "RATE"}, kind: KindKissOfDeath, stratum: 0, leap: 3, kiss: "RATE", errPrefix: "kiss-o'-death RATE"},
		{name: "kodDENY", cfg: ntpserver.Config{KissCode: "DENY"}, kind: KindKissOfDeath, stratum: 0, leap: 3, kiss: "DENY", errPrefix: "kiss-o'-death DENY"},
		{name: "silent", cfg: ntpserver.Config{Silent: true}, kind: KindTimeout, errPrefix: "no response: timeout", noResponse: true},
		{name: "malformed", cfg: ntpserver.Config{Malformed: true}, kind: KindMalformed, errPrefix: "malformed reply:", noResponse: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := responder(t, "127.0.0.52:0", tc.cfg)
			start := time.Now()
			res, kind, err := prober(t, s.Addr().Port()).Probe(context.Background(), s.Addr().Addr())
			if err != nil {
				t.Fatal(err)
			}
			if kind != tc.kind {
				t.Errorf("kind %q, want %q (%+v)", kind, tc.kind, res)
			}
			if (res.Offset != nil) != tc.hasOffset {
				t.Fatalf("offset %v, want present=%v", res.Offset, tc.hasOffset)
			}
			if tc.hasOffset && tc.offset != 0 && (*res.Offset-tc.offset > 0.01 || *res.Offset-tc.offset < -0.01) {
				t.Errorf("offset %v, want %v", *res.Offset, tc.offset)
			}
			if res.Stratum != tc.stratum || res.Leap != tc.leap || res.KissCode != tc.kiss || res.NoResponse != tc.noResponse {
				t.Errorf("stratum %d leap %d kiss %q noresp %v, want %d %d %q %v", res.Stratum, res.Leap, res.KissCode, res.NoResponse, tc.stratum, tc.leap, tc.kiss, tc.noResponse)
			}
			if !strings.HasPrefix(res.Error, tc.errPrefix) || (tc.errPrefix == "") != (res.Error == "") {
				t.Errorf("error %q, want prefix %q", res.Error, tc.errPrefix)
			}
			// A KoD or bad stratum ends the probe at once; others take every sample.
			want := uint64(fast.Samples)
			if tc.kind == KindKissOfDeath || tc.kind == KindBadStratum {
				want = 1
			}
			if got := s.Served() + s.Dropped(); got != want {
				t.Errorf("server saw %d queries, want %d", got, want)
			}
			if tc.kind == KindTimeout && time.Since(start) < 3*fast.Timeout+2*fast.Spacing {
				t.Errorf("silent probe took %v, shorter than its samples", time.Since(start))
			}
			if tc.kiss != "" && res.RefID != tc.kiss {
				t.Errorf("refid %q, want %q", res.RefID, tc.kiss)
			}
		})
	}
}

func TestProbeRefusedPort(t *testing.T) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 53)})
	if err != nil {
		t.Fatal(err)
	}
	ap := c.LocalAddr().(*net.UDPAddr).AddrPort()
	c.Close()
	res, kind, err := prober(t, ap.Port()).Probe(context.Background(), ap.Addr())
	if err != nil || kind != KindRefused || !res.NoResponse || res.Error != "no response: connection refused" {
		t.Fatalf("kind %q err %v res %+v", kind, err, res)
	}
}

func TestProbeIPv6(t *testing.T) {
	s := responder(t, "[::1]:0", ntpserver.Config{Offset: 100 * time.Millisecond})
	res, kind, err := prober(t, s.Addr().Port()).Probe(context.Background(), netip.MustParseAddr("::1"))
	if err != nil || kind != KindOK || res.Offset == nil || *res.Offset < 0.09 {
		t.Fatalf("kind %q err %v res %+v", kind, err, res)
	}
}

func TestProbeRefusesNonPublicTargets(t *testing.T) {
	s := responder(t, "127.0.0.54:0", ntpserver.Config{})
	o := fast
	o.AllowPrivate = false
	o.Port = s.Addr().Port()
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, ip := range []string{"127.0.0.54", "10.1.2.3", "192.168.1.1", "224.0.0.1", "ff02::1", "::1", "::ffff:127.0.0.54"} {
		res, kind, err := p.Probe(context.Background(), netip.MustParseAddr(ip))
		if err != nil || kind != KindNotPublic || !strings.HasPrefix(res.Error, "not probed:") || res.Offset != nil {
			t.Errorf("%s: kind %q err %v res %+v", ip, kind, err, res)
		}
	}
	if s.Served()+s.Dropped() != 0 {
		t.Errorf("a refused target was queried")
	}
	o.AllowPrivate = true
	p, _ = New(o)
	if res, kind, err := p.Probe(context.Background(), netip.Addr{}); err != nil || kind != KindNotPublic || res.Error != "not probed: invalid address" {
		t.Errorf("zero address: kind %q err %v res %+v", kind, err, res)
	}
}

func TestProbeStopsOnCancel(t *testing.T) {
	s := responder(t, "127.0.0.55:0", ntpserver.Config{})
	o := fast
	o.Port, o.Spacing = s.Addr().Port(), time.Hour
	p, _ := New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, _, err := p.Probe(ctx, s.Addr().Addr()); done <- err }()
	deadline := time.Now().Add(5 * time.Second)
	for s.Served() == 0 && time.Now().Before(deadline) {
		runtime.Gosched()
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("err %v, want context.Canceled", err)
	}
}

func TestBestSampleRule(t *testing.T) {
	ok := func(rtt time.Duration) sample {
		return sample{resp: &ntp.Response{RTT: rtt, Stratum: 2}, kind: KindOK}
	}
	rejected := sample{resp: &ntp.Response{Stratum: 2}, err: ntp.ErrInvalidDispersion, kind: KindRejected}
	timeout := sample{err: errors.New("i/o timeout"), kind: KindTimeout}
	for _, tc := range []struct {
		name string
		in   []sample
		want Kind
		rtt  time.Duration
	}{
		{"lowest rtt wins", []sample{ok(30 * time.Millisecond), ok(10 * time.Millisecond), ok(20 * time.Millisecond)}, KindOK, 10 * time.Millisecond},
		{"ok beats failures", []sample{timeout, rejected, ok(50 * time.Millisecond)}, KindOK, 50 * time.Millisecond},
		{"rejected beats timeout", []sample{timeout, rejected, timeout}, KindRejected, 0},
		{"all timeouts", []sample{timeout, timeout}, KindTimeout, 0},
	} {
		got := pick(tc.in)
		if got.kind != tc.want || (tc.rtt != 0 && got.resp.RTT != tc.rtt) {
			t.Errorf("%s: got %q %+v", tc.name, got.kind, got.resp)
		}
	}
}

func TestNewRefusesBadOptions(t *testing.T) {
	for _, o := range []Options{{Samples: 0, Timeout: time.Second}, {Samples: 3}, {Samples: 3, Timeout: time.Second, Spacing: -1}} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

// BenchmarkProbe is one single-sample probe of a local responder: the CPU
// and allocations each query costs the agent.
func BenchmarkProbe(b *testing.B) {
	s, err := ntpserver.Listen("127.0.0.56:0", ntpserver.Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	p, err := New(Options{Samples: 1, Timeout: time.Second, Port: s.Addr().Port(), AllowPrivate: true})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, kind, _ := p.Probe(ctx, s.Addr().Addr()); kind != KindOK {
			b.Fatalf("kind %q", kind)
		}
	}
}
