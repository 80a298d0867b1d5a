package assign

import (
	"testing"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/score"
)

func TestInterval(t *testing.T) {
	m := time.Minute
	cases := []struct {
		name string
		p    Pair
		want time.Duration // 0: never
	}{
		{"active pair", Pair{State: A, Global: GlobalActive, Score: 20}, 9 * m},
		{"active pair, monitor globally testing", Pair{State: A, Global: GlobalTesting, Score: 20}, 45 * m},
		{"testing pair", Pair{State: T, Global: GlobalActive, Score: 20}, 45 * m},
		{"testing pair, monitor globally testing", Pair{State: T, Global: GlobalTesting}, 45 * m},
		{"candidate", Pair{State: C, Global: GlobalActive, Score: 20}, 2 * time.Hour},
		{"paused pair", Pair{State: score.Paused, Global: GlobalActive}, 2 * time.Hour},
		{"active at -90", Pair{State: A, Global: GlobalActive, Score: -90}, 2 * time.Hour},
		{"active just above -90", Pair{State: A, Global: GlobalActive, Score: -89.99}, 9 * m},
		{"testing at -100", Pair{State: T, Global: GlobalActive, Score: -100}, 2 * time.Hour},
		{"monitor pending", Pair{State: A, Global: GlobalPending}, 0},
		{"monitor paused", Pair{State: A, Global: GlobalPaused}, 0},
		{"monitor deleted", Pair{State: C, Global: GlobalDeleted}, 0},
		{"no row", Pair{State: N, Global: GlobalActive}, 0},
	}
	cfg := DefaultConfig()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d, ok := cfg.Interval(tc.p)
			if ok != (tc.want != 0) || d != tc.want {
				t.Errorf("Interval = %v, %v; want %v", d, ok, tc.want)
			}
		})
	}
}

func TestDue(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	s := time.Second
	active := func(handed, scored time.Duration) Pair {
		p := Pair{State: A, Global: GlobalActive, Score: 20}
		if handed >= 0 {
			p.Handed = now.Add(-handed)
		}
		if scored >= 0 {
			p.Scored = now.Add(-scored)
		}
		return p
	}
	cases := []struct {
		name string
		p    Pair
		want bool
	}{
		{"never handed, never scored", active(-1, -1), true},
		{"handed 9 min ago", active(9*time.Minute, -1), true},
		{"handed 9 min less 1 s ago", active(9*time.Minute-s, -1), false},
		{"scored 60 s ago", active(time.Hour, 60*s), true},
		{"scored 59 s ago", active(time.Hour, 59*s), false},
		{"never handed, scored 10 s ago", active(-1, 10*s), false},
		{"deletion date now", func() Pair { p := active(time.Hour, -1); p.Deletion = now; return p }(), false},
		{"deletion date passed", func() Pair { p := active(time.Hour, -1); p.Deletion = now.Add(-s); return p }(), false},
		{"deletion date ahead", func() Pair { p := active(time.Hour, -1); p.Deletion = now.Add(s); return p }(), true},
		{"monitor paused", func() Pair { p := active(time.Hour, -1); p.Global = GlobalPaused; return p }(), false},
		{"candidate handed 2 h ago", Pair{State: C, Global: GlobalActive, Handed: now.Add(-2 * time.Hour)}, true},
		{"candidate handed 119 min ago", Pair{State: C, Global: GlobalActive, Handed: now.Add(-119 * time.Minute)}, false},
	}
	cfg := DefaultConfig()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := cfg.Due(now, tc.p); got != tc.want {
				t.Errorf("Due = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNextDue(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	cfg := DefaultConfig()
	p := Pair{State: T, Global: GlobalActive, Handed: now, Scored: now.Add(time.Hour)}
	if at, ok := cfg.NextDue(p); !ok || !at.Equal(now.Add(time.Hour+time.Minute)) {
		t.Errorf("NextDue = %v, %v; want the rescore gap to win", at, ok)
	}
	p.Scored = now
	if at, ok := cfg.NextDue(p); !ok || !at.Equal(now.Add(45*time.Minute)) {
		t.Errorf("NextDue = %v, %v; want 45 min after handing", at, ok)
	}
	p.Deletion = now.Add(45 * time.Minute)
	if _, ok := cfg.NextDue(p); ok {
		t.Error("NextDue due on the deletion date")
	}
	if at, ok := cfg.NextDue(Pair{State: A, Global: GlobalActive}); !ok || !at.IsZero() {
		t.Errorf("never handed: NextDue = %v, %v; want zero time (due now)", at, ok)
	}
}
