package assign

import (
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/score"
)

// Pair is what decides when a (monitor, server) pair is due for a probe.
type Pair struct {
	State  score.State // the monitor's state for the server
	Global GlobalState // the monitor's global state
	Score  float64     // the monitor's score for the server
	// Handed is when the server was last handed to this monitor (zero:
	// never).
	Handed time.Time
	// Scored is the server's last overall-score update (zero: never).
	Scored time.Time
	// Deletion is the server's deletion date (zero: none).
	Deletion time.Time
}

// Interval is how often the pair is probed: ActiveInterval for an active
// pair (ActiveTestingInterval when the monitor is only globally testing),
// TestingInterval for a testing pair, SlowInterval for candidates, paused
// pairs and pairs scoring SlowScore or below. ok is false when the monitor
// may not fetch work at all (globally pending, paused or deleted) or the
// pair has no row.
func (c Config) Interval(p Pair) (d time.Duration, ok bool) {
	if !p.Global.Works() || p.State == score.None {
		return 0, false
	}
	switch {
	case p.Score <= c.SlowScore || p.State == score.Candidate || p.State == score.Paused:
		return c.SlowInterval, true
	case p.State == score.Testing:
		return c.TestingInterval, true
	case p.Global == GlobalTesting:
		return c.ActiveTestingInterval, true
	default:
		return c.ActiveInterval, true
	}
}

// NextDue is the earliest time the pair may be handed out: Interval after
// Handed, and not within MinRescore of Scored. ok is false when it will
// never be due: Interval says so, or that time is at or past the deletion
// date.
func (c Config) NextDue(p Pair) (at time.Time, ok bool) {
	d, ok := c.Interval(p)
	if !ok {
		return time.Time{}, false
	}
	if !p.Handed.IsZero() {
		at = p.Handed.Add(d)
	}
	if !p.Scored.IsZero() {
		if r := p.Scored.Add(c.MinRescore); r.After(at) {
			at = r
		}
	}
	if !p.Deletion.IsZero() && !at.Before(p.Deletion) {
		return time.Time{}, false
	}
	return at, true
}

// Due reports whether the pair may be handed out at now.
func (c Config) Due(now time.Time, p Pair) bool {
	at, ok := c.NextDue(p)
	if !ok {
		return false
	}
	if !p.Deletion.IsZero() && !now.Before(p.Deletion) {
		return false
	}
	return !now.Before(at)
}
