package alert

import (
	"errors"
	"math"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func ago(d time.Duration) time.Time { return now.Add(-d) }

func TestCheck(t *testing.T) {
	sec := time.Second
	alerted := func(last time.Duration, lastScore float64) State {
		return State{First: ago(30 * day), Last: ago(last), LastScore: lastScore}
	}
	cases := []struct {
		name string
		s    Server
		want Action
	}{
		{"score -15 alerts", Server{InPool: true, Score: -15}, Send},
		{"score -14.99 does not", Server{InPool: true, Score: -14.99}, None},
		{"score -100 alerts", Server{InPool: true, Score: -100}, Send},
		{"not in the pool", Server{InPool: false, Score: -50}, None},
		{"deletion in 16 days: quiet", Server{InPool: true, Score: -50, Deletion: now.Add(16 * day)}, None},
		{"deletion in 16 days and 1 s", Server{InPool: true, Score: -50, Deletion: now.Add(16*day + sec)}, Send},
		{"deletion passed", Server{InPool: true, Score: -50, Deletion: ago(day)}, None},
		{"already alerted 14 days ago: no repeat", Server{InPool: true, Score: -50, Alert: alerted(14*day, -50)}, None},
		{"alerted 14 days and 1 s ago: repeat", Server{InPool: true, Score: -50, Alert: alerted(14*day+sec, -50)}, Send},
		{"repeat at exactly 10 above last", Server{InPool: true, Score: -30, Alert: alerted(20*day, -40)}, Send},
		{"no repeat when more than 10 above last", Server{InPool: true, Score: -29.9, Alert: alerted(20*day, -40)}, None},
		{"repeat when lower than last", Server{InPool: true, Score: -80, Alert: alerted(20*day, -40)}, Send},
		{"alerted, recovering but not above 10", Server{InPool: true, Score: 10, Alert: alerted(day, -40)}, None},
		{"alerted, above 10 clears", Server{InPool: true, Score: 10.01, Alert: alerted(day, -40)}, Clear},
		{"alerted, removed from pool, above 10 clears", Server{Score: 15, Alert: alerted(day, -40)}, Clear},
		{"never alerted, above 10", Server{InPool: true, Score: 15}, None},
		{"alerted, between -15 and 10", Server{InPool: true, Score: 0, Alert: alerted(20*day, -40)}, None},
	}
	cfg := DefaultConfig()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := cfg.Check(now, tc.s); got != tc.want {
				t.Errorf("Check = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestFailingListsAtThreshold(t *testing.T) {
	cfg := DefaultConfig()
	if !cfg.Failing(now, Server{InPool: true, Score: -15}) || cfg.Failing(now, Server{InPool: true, Score: -14}) {
		t.Error("Failing threshold is not -15 inclusive")
	}
}

func TestSent(t *testing.T) {
	var s State
	if s.Alerted() {
		t.Fatal("zero State is alerted")
	}
	s = s.Sent(ago(20*day), -30)
	s = s.Sent(now, -45)
	if !s.Alerted() || !s.First.Equal(ago(20*day)) || !s.Last.Equal(now) || s.LastScore != -45 {
		t.Errorf("after two sends: %+v", s)
	}
}

func TestRemoval(t *testing.T) {
	sec := time.Second
	failing := func(first, last time.Duration, lastScore float64) State {
		return State{First: ago(first), Last: ago(last), LastScore: lastScore}
	}
	base := Server{InPool: true, Score: -20, Alert: failing(46*day, 6*day, -20)}
	with := func(f func(*Server)) Server { s := base; f(&s); return s }
	cases := []struct {
		name string
		s    Server
		want bool
	}{
		{"removes", base, true},
		{"not in pool", with(func(s *Server) { s.InPool = false }), false},
		{"has a deletion date", with(func(s *Server) { s.Deletion = now.Add(30 * day) }), false},
		{"score 0 is not below 0", with(func(s *Server) { s.Score = 0 }), false},
		{"score just below 0", with(func(s *Server) { s.Score, s.Alert.LastScore = -0.01, -5 }), true},
		{"first alert exactly 45 days ago", with(func(s *Server) { s.Alert.First = ago(45 * day) }), false},
		{"first alert 45 days and 1 s ago", with(func(s *Server) { s.Alert.First = ago(45*day + sec) }), true},
		{"last alert exactly 5 days ago", with(func(s *Server) { s.Alert.Last = ago(5 * day) }), false},
		{"last alert 5 days and 1 s ago", with(func(s *Server) { s.Alert.Last = ago(5*day + sec) }), true},
		{"score exactly 10 above last", with(func(s *Server) { s.Score, s.Alert.LastScore = -10, -20 }), true},
		{"score more than 10 above last", with(func(s *Server) { s.Score, s.Alert.LastScore = -9.99, -20 }), false},
		{"never alerted", with(func(s *Server) { s.Alert = State{} }), false},
	}
	cfg := DefaultConfig()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			when, ok := cfg.Removal(now, tc.s)
			if ok != tc.want {
				t.Fatalf("Removal ok = %v, want %v", ok, tc.want)
			}
			if ok && !when.Equal(now.Add(2*day)) {
				t.Errorf("deletion at %v, want 2 days ahead", when)
			}
		})
	}
}

func TestActionString(t *testing.T) {
	if Send.String() != "send" || Clear.String() != "clear" || None.String() != "none" {
		t.Error("Action.String")
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Config){
		"negative age":  func(c *Config) { c.RemoveFirstAge = -day },
		"zero interval": func(c *Config) { c.CheckEvery = 0 },
		"NaN score":     func(c *Config) { c.Score = math.NaN() },
	} {
		c := DefaultConfig()
		mutate(&c)
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: Validate = %v, want ErrConfig", name, err)
		}
	}
}
