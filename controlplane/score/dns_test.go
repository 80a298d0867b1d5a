package score

import (
	"math"
	"testing"
	"time"
)

func TestInDNS(t *testing.T) {
	d := 24 * time.Hour
	cases := []struct {
		name string
		s    Server
		want bool
	}{
		{"score 10", Server{Score: 10, NetSpeed: 1000}, true},
		{"score just below 10", Server{Score: 9.999999, NetSpeed: 1000}, false},
		{"score 20", Server{Score: 20, NetSpeed: 512}, true},
		{"net speed 0", Server{Score: 20, NetSpeed: 0}, false},
		{"negative net speed", Server{Score: 20, NetSpeed: -1}, false},
		{"NaN score", Server{Score: math.NaN(), NetSpeed: 1000}, false},
		{"deletion 14 days away", Server{Score: 20, NetSpeed: 1000, Deletion: t0.Add(14 * d)}, false},
		{"deletion 14 days and 1 s away", Server{Score: 20, NetSpeed: 1000, Deletion: t0.Add(14*d + time.Second)}, true},
		{"deletion 22 days away", Server{Score: 20, NetSpeed: 1000, Deletion: t0.Add(22 * d)}, true},
		{"deletion 3 days away", Server{Score: 20, NetSpeed: 1000, Deletion: t0.Add(3 * d)}, false},
		{"deletion passed", Server{Score: 20, NetSpeed: 1000, Deletion: t0.Add(-d)}, false},
	}
	cfg := DefaultConfig()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := cfg.InDNS(t0, tc.s); got != tc.want {
				t.Errorf("InDNS = %v, want %v", got, tc.want)
			}
			if w := cfg.Weight(t0, tc.s); (w > 0) != tc.want {
				t.Errorf("Weight = %d with InDNS %v", w, tc.want)
			}
		})
	}
}

func TestWeight(t *testing.T) {
	off := DefaultConfig()
	ramp := DefaultConfig()
	ramp.RampWidth = 10
	cases := []struct {
		name string
		cfg  Config
		s    Server
		want int64
	}{
		{"ramp off: net speed", off, Server{Score: 10, NetSpeed: 1500}, 1500},
		{"ramp off: default new server", off, Server{Score: 19, NetSpeed: 10000}, 10000},
		{"ramp at 10: floor", ramp, Server{Score: 10, NetSpeed: 1000}, 100},
		{"ramp half way", ramp, Server{Score: 15, NetSpeed: 1000}, 550},
		{"ramp at top", ramp, Server{Score: 20, NetSpeed: 1000}, 1000},
		{"ramp above top", ramp, Server{Score: 25, NetSpeed: 1000}, 1000},
		{"ramp out of DNS", ramp, Server{Score: 9, NetSpeed: 1000}, 0},
		{"at least 1", ramp, Server{Score: 10, NetSpeed: 1}, 1},
		{"at most 2^31-1", off, Server{Score: 20, NetSpeed: 1 << 40}, 1<<31 - 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.cfg.Weight(t0, tc.s); got != tc.want {
				t.Errorf("Weight = %d, want %d", got, tc.want)
			}
		})
	}
}
