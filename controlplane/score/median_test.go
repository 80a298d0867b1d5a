package score

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// row is monitor id's score s in state st, age before t0, with rtt ms.
func row(id int64, st State, s float64, age time.Duration, rttMS int) MonitorScore {
	return MonitorScore{MonitorID: id, State: st, Score: s, RTT: time.Duration(rttMS) * time.Millisecond, Time: t0.Add(-age)}
}

func TestRecentMedian(t *testing.T) {
	m := time.Minute
	cases := []struct {
		name   string
		rows   []MonitorScore
		wantID int64 // 0: nothing qualifies
	}{
		{"odd takes the median", []MonitorScore{
			row(1, Active, 1, m, 10), row(2, Active, 5, m, 10), row(3, Active, 3, m, 10),
			row(4, Active, 9, m, 10), row(5, Active, 7, m, 10)}, 2},
		{"three", []MonitorScore{row(1, Active, 20, m, 10), row(2, Active, -3, m, 10), row(3, Active, 12, m, 10)}, 3},
		{"even takes the lower middle", []MonitorScore{
			row(1, Active, 4, m, 10), row(2, Active, 1, m, 10), row(3, Active, 3, m, 10), row(4, Active, 2, m, 10)}, 4},
		{"six", []MonitorScore{
			row(1, Active, 6, m, 10), row(2, Active, 5, m, 10), row(3, Active, 4, m, 10),
			row(4, Active, 3, m, 10), row(5, Active, 2, m, 10), row(6, Active, 1, m, 10)}, 4},
		{"one", []MonitorScore{row(7, Active, -40, m, 10)}, 7},
		{"two takes the oldest, not the lower", []MonitorScore{row(1, Active, 5, 2*m, 10), row(2, Active, 15, 10*m, 10)}, 2},
		{"two with equal times takes the lower id", []MonitorScore{row(9, Active, 5, m, 10), row(3, Active, 15, m, 10)}, 3},
		{"ties by RTT, odd", []MonitorScore{row(1, Active, 5, m, 30), row(2, Active, 5, m, 10), row(3, Active, 5, m, 20)}, 3},
		{"ties by RTT, even", []MonitorScore{
			row(1, Active, 1, m, 10), row(2, Active, 5, m, 50), row(3, Active, 5, m, 10), row(4, Active, 9, m, 10)}, 3},
		{"active window includes 20 min", []MonitorScore{row(1, Active, 5, 20*m, 10), row(2, Testing, 9, m, 10)}, 1},
		{"active only when any is recent", []MonitorScore{
			row(1, Active, 5, 5*m, 10), row(2, Testing, 9, m, 10), row(3, Testing, 9, m, 10), row(4, Testing, 9, m, 10)}, 1},
		{"active past 20 min falls back to active+testing", []MonitorScore{
			row(1, Active, 5, 21*m, 10), row(2, Testing, 9, 30*m, 10), row(3, Testing, 1, 44*m, 10)}, 1},
		{"45 min window includes 45 min", []MonitorScore{row(1, Active, 5, 45*m, 10), row(2, Candidate, 9, m, 10)}, 1},
		{"past 45 min falls back to testing+candidate", []MonitorScore{
			row(1, Active, 5, 46*m, 10), row(2, Candidate, 9, 60*m, 10), row(3, Testing, 1, 50*m, 10)}, 2},
		{"last window excludes active", []MonitorScore{row(1, Active, 5, 50*m, 10), row(2, Candidate, 9, 100*m, 10)}, 2},
		{"2 h window includes 2 h", []MonitorScore{row(1, Candidate, 5, 120*m, 10)}, 1},
		{"older than 2 h: nothing", []MonitorScore{row(1, Candidate, 5, 121*m, 10), row(2, Testing, 5, 3*time.Hour, 10)}, 0},
		{"paused never counts", []MonitorScore{row(1, Paused, 5, m, 10)}, 0},
		{"no row state never counts", []MonitorScore{row(1, None, 5, m, 10)}, 0},
		{"active older than 45 min: nothing", []MonitorScore{row(1, Active, 5, 46*m, 10)}, 0},
		{"empty", nil, 0},
		{"a row newer than now does not count", []MonitorScore{row(1, Active, 5, -m, 10)}, 0},
		{"rows newer than now leave the older ones", []MonitorScore{
			row(1, Active, 5, -m, 10), row(2, Active, 7, 0, 10), row(3, Testing, 9, m, 10)}, 2},
	}
	cfg := DefaultConfig()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := cfg.RecentMedian(t0, tc.rows)
			if ok != (tc.wantID != 0) || got.MonitorID != tc.wantID {
				t.Errorf("RecentMedian = monitor %d (ok %v), want %d", got.MonitorID, ok, tc.wantID)
			}
		})
	}
}

func TestRecentMedianManyRowsAndNoInputChange(t *testing.T) {
	cfg := DefaultConfig()
	rows := make([]MonitorScore, 101)
	for i := range rows {
		rows[i] = row(int64(i+1), Active, float64(100-i), time.Minute, 10)
	}
	got, ok := cfg.RecentMedian(t0, rows)
	if !ok || got.Score != 50 {
		t.Errorf("median of 101 = %v (ok %v), want 50", got.Score, ok)
	}
	if rows[0].Score != 100 || rows[100].Score != 0 {
		t.Error("RecentMedian reordered its input")
	}
}

func TestRecentMedianDoesNotAllocate(t *testing.T) {
	cfg := DefaultConfig()
	rows := make([]MonitorScore, 12)
	for i := range rows {
		rows[i] = row(int64(i+1), State(1+i%3), float64(i%5), time.Duration(i)*time.Minute, 10+i)
	}
	if n := testing.AllocsPerRun(100, func() { cfg.RecentMedian(t0, rows) }); n != 0 {
		t.Errorf("RecentMedian allocates %v times", n)
	}
}

func TestStateNames(t *testing.T) {
	for s := None; s <= Paused; s++ {
		got, err := ParseState(s.String())
		if err != nil || got != s {
			t.Errorf("ParseState(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseState("bogus"); err == nil {
		t.Error("ParseState accepted bogus")
	}
	if State(99).String() != "State(99)" {
		t.Error("unknown State string")
	}
}

func TestWindowsAreConfigurable(t *testing.T) {
	cfg := DefaultConfig()
	cfg.ActiveWindow = 2 * time.Second
	rows := []MonitorScore{row(1, Active, 5, 3*time.Second, 10), row(2, Testing, 9, time.Second, 10)}
	if got, _ := cfg.RecentMedian(t0, rows); got.MonitorID != 1 {
		t.Errorf("short active window: monitor %d, want 1 (from the 45 min tier, oldest)", got.MonitorID)
	}
}
