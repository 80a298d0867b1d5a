package alert

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Config holds the thresholds of the alert and automatic-removal rules.
// DefaultConfig returns POOL.md's values.
type Config struct {
	// An alert is due when a server in the pool has an overall score of
	// Score or below and no deletion date within DeletionQuiet.
	Score         float64       // -15
	DeletionQuiet time.Duration // 16 days
	// A repeat needs the last alert to be more than RepeatAfter old and the
	// score not more than RepeatRise above the last emailed score.
	RepeatAfter time.Duration // 14 days
	RepeatRise  float64       // 10
	// The alert is cleared once the score is above ClearScore.
	ClearScore float64 // 10

	// Automatic removal: in the pool, no deletion date, score below
	// RemoveScore, first alert more than RemoveFirstAge ago, last more than
	// RemoveLastAge ago, score not more than RemoveRise above the last
	// emailed score: deletion is scheduled RemoveAhead from now.
	RemoveScore    float64       // 0
	RemoveFirstAge time.Duration // 45 days
	RemoveLastAge  time.Duration // 5 days
	RemoveRise     float64       // 10
	RemoveAhead    time.Duration // 2 days

	// How often the jobs run (the pool: every 15 minutes and every 3 hours).
	CheckEvery  time.Duration // 15m
	RemoveEvery time.Duration // 3h
}

const day = 24 * time.Hour

// DefaultConfig returns POOL.md's alert and removal rules.
func DefaultConfig() Config {
	return Config{
		Score:          -15,
		DeletionQuiet:  16 * day,
		RepeatAfter:    14 * day,
		RepeatRise:     10,
		ClearScore:     10,
		RemoveScore:    0,
		RemoveFirstAge: 45 * day,
		RemoveLastAge:  5 * day,
		RemoveRise:     10,
		RemoveAhead:    2 * day,
		CheckEvery:     15 * time.Minute,
		RemoveEvery:    3 * time.Hour,
	}
}

// ErrConfig is wrapped by every error of Config.Validate.
var ErrConfig = errors.New("alert: invalid config")

// Validate rejects negative durations and NaN thresholds.
func (c Config) Validate() error {
	for _, d := range []time.Duration{c.DeletionQuiet, c.RepeatAfter, c.RemoveFirstAge, c.RemoveLastAge, c.RemoveAhead} {
		if d < 0 {
			return fmt.Errorf("%w: negative duration %v", ErrConfig, d)
		}
	}
	if c.CheckEvery <= 0 || c.RemoveEvery <= 0 {
		return fmt.Errorf("%w: job intervals %v, %v must be positive", ErrConfig, c.CheckEvery, c.RemoveEvery)
	}
	for _, v := range []float64{c.Score, c.RepeatRise, c.ClearScore, c.RemoveScore, c.RemoveRise} {
		if math.IsNaN(v) {
			return fmt.Errorf("%w: NaN threshold", ErrConfig)
		}
	}
	return nil
}

// State is what the store keeps about a server's alerts. The zero value
// means "no alert outstanding".
type State struct {
	First time.Time // first alert of this episode
	Last  time.Time // newest alert email
	// LastScore is the overall score the newest email reported.
	LastScore float64
}

// Alerted reports whether an alert is outstanding.
func (s State) Alerted() bool { return !s.Last.IsZero() }

// Sent is the state after an alert email reporting score went out at now.
func (s State) Sent(now time.Time, score float64) State {
	if s.First.IsZero() {
		s.First = now
	}
	s.Last = now
	s.LastScore = score
	return s
}

// Server is what the rules look at.
type Server struct {
	// InPool: the server is registered and not deleted.
	InPool bool
	// Score is the overall score.
	Score float64
	// Deletion is the scheduled deletion date; zero when none.
	Deletion time.Time
	Alert    State
}

// Action is what the alert check decides for one server.
type Action uint8

// Actions of the alert check.
const (
	None  Action = iota // nothing to do
	Send                // email the account (first alert or repeat); then store Alert.Sent
	Clear               // the score recovered: forget the alert (store the zero State)
)

func (a Action) String() string {
	switch a {
	case Send:
		return "send"
	case Clear:
		return "clear"
	default:
		return "none"
	}
}

// Failing reports whether s is a server an alert email lists: in the pool,
// no deletion date within DeletionQuiet, overall score at or below Score.
func (c Config) Failing(now time.Time, s Server) bool {
	if !s.InPool || s.Score > c.Score {
		return false
	}
	return s.Deletion.IsZero() || s.Deletion.Sub(now) > c.DeletionQuiet
}

// Check decides the alert action for s at now. A failing server is alerted
// the first time, then again only when the last alert is more than
// RepeatAfter old and the score is not more than RepeatRise above the last
// emailed score. An outstanding alert clears once the score is above
// ClearScore.
func (c Config) Check(now time.Time, s Server) Action {
	if s.Alert.Alerted() && s.Score > c.ClearScore {
		return Clear
	}
	if !c.Failing(now, s) {
		return None
	}
	if !s.Alert.Alerted() {
		return Send
	}
	if now.Sub(s.Alert.Last) > c.RepeatAfter && s.Score <= s.Alert.LastScore+c.RepeatRise {
		return Send
	}
	return None
}

// Removal decides automatic removal: a server in the pool with no deletion
// date, overall score below RemoveScore, first alert more than
// RemoveFirstAge ago, last alert more than RemoveLastAge ago and the score
// not more than RemoveRise above the last emailed score gets deletion date
// now+RemoveAhead (so it leaves the DNS at once). ok is false otherwise.
func (c Config) Removal(now time.Time, s Server) (deletion time.Time, ok bool) {
	a := s.Alert
	switch {
	case !s.InPool, !s.Deletion.IsZero(), !(s.Score < c.RemoveScore),
		a.First.IsZero(), a.Last.IsZero(),
		!(now.Sub(a.First) > c.RemoveFirstAge),
		!(now.Sub(a.Last) > c.RemoveLastAge),
		!(s.Score <= a.LastScore+c.RemoveRise):
		return time.Time{}, false
	}
	return now.Add(c.RemoveAhead), true
}
