package score

import (
	"math"
	"time"
)

// Server is what DNS eligibility and the published weight depend on.
type Server struct {
	// Score is the overall score (RecentMedian).
	Score float64
	// NetSpeed in kbit/s; 0 means monitored but never published.
	NetSpeed int64
	// Deletion is the scheduled deletion date; zero when none.
	Deletion time.Time
}

// InDNS reports whether s belongs in the DNS at now: overall score at least
// MinScore, net speed above 0, and no deletion date within DeletionMargin
// (a date exactly DeletionMargin away already removes it).
func (c Config) InDNS(now time.Time, s Server) bool {
	if math.IsNaN(s.Score) || s.Score < c.MinScore || s.NetSpeed <= 0 {
		return false
	}
	return s.Deletion.IsZero() || s.Deletion.Sub(now) > c.DeletionMargin
}

// maxWeight keeps a published weight within the record format's bound
// (record.MaxWeight), which this package does not import.
const maxWeight = 1<<31 - 1

// Weight is the selection weight to publish for s, 0 when it is not in the
// DNS at now. It is the net speed, or with RampWidth > 0 a share of it
// growing linearly from RampFloor at MinScore to all of it at
// MinScore+RampWidth. A published weight is at least 1 and at most 2^31-1.
func (c Config) Weight(now time.Time, s Server) int64 {
	if !c.InDNS(now, s) {
		return 0
	}
	w := float64(s.NetSpeed)
	if c.RampWidth > 0 {
		f := c.RampFloor + (1-c.RampFloor)*(s.Score-c.MinScore)/c.RampWidth
		w *= max(0, min(1, f))
	}
	return int64(max(1, min(maxWeight, math.Round(w))))
}
