package score

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// State is a monitor's state for one server. The zero value, None, means
// the monitor has no row for the server yet.
type State uint8

// Per-server monitor states (POOL.md "Monitors").
const (
	None State = iota
	Candidate
	Testing
	Active
	Paused
)

var stateNames = [...]string{"none", "candidate", "testing", "active", "paused"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", s)
}

// ParseState is the inverse of State.String.
func ParseState(s string) (State, error) {
	for i, n := range stateNames {
		if n == s {
			return State(i), nil
		}
	}
	return None, fmt.Errorf("score: parse state %q: unknown state", s)
}

// MonitorScore is one monitor's newest score for a server.
type MonitorScore struct {
	MonitorID int64
	State     State
	Score     float64
	// RTT of the probe that produced Score; it breaks ties between equal
	// scores (lower first).
	RTT  time.Duration
	Time time.Time
	// Step of the probe that produced Score: an overall-score row records
	// the chosen row's step.
	Step float64
}

// medianBuf is large enough for every realistic server (the pool aims at 7
// active and up to 12 testing monitors), so RecentMedian does not allocate.
const medianBuf = 64

// RecentMedian is the overall score of a server ("recent median"), from each
// monitor's newest score at or before now (rows holds one per monitor; a
// row after now does not count: the caller passes the monitor's newest row
// at or before now instead), counted back from now (the timestamp of the
// result being stored):
//
//  1. active monitors with a score within ActiveWindow;
//  2. if none, active or testing within TestingWindow;
//  3. if none, testing or candidate within AnyWindow.
//
// With 3 or more rows it sorts them by score, ties by RTT, and takes
// element (n-1)/2: the median, or the lower middle for even n. With 1 or 2
// it takes the oldest. ok is false when nothing qualifies: the overall score
// then stays as it was. The chosen row is returned so its RTT and time can
// be recorded with the overall score.
func (c Config) RecentMedian(now time.Time, rows []MonitorScore) (chosen MonitorScore, ok bool) {
	var buf [medianBuf]MonitorScore
	sel := pick(buf[:0], rows, now.Add(-c.ActiveWindow), now, Active, Active)
	if len(sel) == 0 {
		sel = pick(sel, rows, now.Add(-c.TestingWindow), now, Active, Testing)
	}
	if len(sel) == 0 {
		sel = pick(sel, rows, now.Add(-c.AnyWindow), now, Testing, Candidate)
	}
	switch n := len(sel); {
	case n == 0:
		return MonitorScore{}, false
	case n <= 2:
		return slices.MinFunc(sel, byAge), true
	default:
		slices.SortFunc(sel, byScore)
		return sel[(n-1)/2], true
	}
}

// pick appends the rows in state a or b from since to now.
func pick(dst, rows []MonitorScore, since, now time.Time, a, b State) []MonitorScore {
	for _, r := range rows {
		if (r.State == a || r.State == b) && !r.Time.Before(since) && !r.Time.After(now) {
			dst = append(dst, r)
		}
	}
	return dst
}

func byAge(x, y MonitorScore) int {
	return cmp.Or(x.Time.Compare(y.Time), cmp.Compare(x.MonitorID, y.MonitorID))
}

func byScore(x, y MonitorScore) int {
	if c := cmp.Compare(x.Score, y.Score); c != 0 {
		return c
	}
	return cmp.Or(cmp.Compare(x.RTT, y.RTT), cmp.Compare(x.MonitorID, y.MonitorID))
}
