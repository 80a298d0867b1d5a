package score

import (
	"math"
	"testing"
)

// run applies the same probe n times from start.
func run(cfg Config, start float64, p Probe, n int) float64 {
	s := start
	st := cfg.Step(p)
	for range n {
		s = cfg.Next(s, st)
	}
	return s
}

var (
	perfect = ok(0)
	timeout = Probe{NoResponse: true}
)

func TestNewServerNeedsExactly14PerfectProbes(t *testing.T) {
	cfg := DefaultConfig()
	if s := run(cfg, 0, perfect, 13); s >= 10 {
		t.Errorf("13 perfect probes: %v, want < 10", s)
	}
	if s := run(cfg, 0, perfect, 14); s < 10 {
		t.Errorf("14 perfect probes: %v, want >= 10", s)
	}
}

func TestSteadyScores(t *testing.T) {
	cfg := DefaultConfig()
	for _, tc := range []struct {
		name  string
		p     Probe
		limit float64
	}{
		{"perfect tends to 20", perfect, 20},
		{"timeouts tend to -100", timeout, -100},
		{"DENY tends to -200", Probe{KissCode: "DENY"}, -200},
		{"100 ms settles at 10.006", ok(0.1), 10.006},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s := run(cfg, 0, tc.p, 2000); math.Abs(s-tc.limit) > 1e-6 {
				t.Errorf("after 2000 probes: %v, want %v", s, tc.limit)
			}
		})
	}
	if s := run(cfg, 0, perfect, 5000); s > 20 {
		t.Errorf("steady +1 overshoots 20: %v", s)
	}
}

func TestHundredMillisecondsReachesTenAfterAbout145Probes(t *testing.T) {
	cfg := DefaultConfig()
	st := cfg.Step(ok(0.1))
	s, n := 0.0, 0
	for s < 10 && n < 1000 {
		s = cfg.Next(s, st)
		n++
	}
	if n < 140 || n > 150 {
		t.Errorf("100 ms offset reached 10 after %d probes, want about 145", n)
	}
	// Just past 100.09 ms the fixed point is below 10: never in the DNS.
	if s := run(cfg, 20, ok(0.1001), 5000); s >= 10 {
		t.Errorf("100.1 ms offset settles at %v, want < 10", s)
	}
}

func TestTimeoutsFromPerfect(t *testing.T) {
	cfg := DefaultConfig()
	one := run(cfg, 20, timeout, 1)
	two := run(cfg, 20, timeout, 2)
	if math.Abs(one-14) > 1e-12 || math.Abs(two-8.3) > 1e-12 {
		t.Errorf("20 after one timeout %v (want 14), two %v (want 8.3)", one, two)
	}
}

func TestCapsAreUpperBounds(t *testing.T) {
	cfg := DefaultConfig()
	for _, tc := range []struct {
		name      string
		p         Probe
		old, want float64
	}{
		{"DENY from 20", Probe{KissCode: "DENY"}, 20, -50},
		{"DENY from -100 has no floor", Probe{KissCode: "DENY"}, -100, -105},
		{"RSTR from 0", Probe{KissCode: "RSTR"}, 0, -50},
		{"zero offset from 20", Probe{}, 20, 5},
		{"zero offset from 0", Probe{}, 0, -2},
		{"far offset from 20", ok(4), 20, -20},
		{"far offset from -30", ok(-4), -30, -32.5},
		{"timeout from -100", timeout, -100, -100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := cfg.Next(tc.old, cfg.Step(tc.p)); math.Abs(got-tc.want) > 1e-12 {
				t.Errorf("Next(%v) = %v, want %v", tc.old, got, tc.want)
			}
		})
	}
}
