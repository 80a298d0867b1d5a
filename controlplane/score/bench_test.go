package score

import (
	"testing"
	"time"
)

// BenchmarkIngest is the scoring work of one probe result: its step, the
// monitor's new score, and the server's overall score over 12 monitors.
func BenchmarkIngest(b *testing.B) {
	cfg := DefaultConfig()
	rows := make([]MonitorScore, 12)
	for i := range rows {
		rows[i] = row(int64(i+1), State(1+i%3), float64(i%7), time.Duration(i)*time.Minute, 10+i)
	}
	p := ok(0.012)
	b.ReportAllocs()
	for b.Loop() {
		st := cfg.Step(p)
		rows[0].Score = cfg.Next(rows[0].Score, st)
		if _, ok := cfg.RecentMedian(t0, rows); !ok {
			b.Fatal("no overall score")
		}
	}
}
