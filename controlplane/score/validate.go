package score

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrConfig is wrapped by every error of Config.Validate.
var ErrConfig = errors.New("score: invalid config")

// Validate reports the first setting that would make the rules meaningless:
// a decay outside [0, 1), offset bands out of order, a window that is not
// positive, or a ramp outside its range.
func (c Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, a...))
	}
	switch {
	case !(c.Decay >= 0 && c.Decay < 1):
		return bad("decay %v outside [0, 1)", c.Decay)
	case !(0 <= c.GoodOffset && c.GoodOffset <= c.FairOffset && c.FairOffset <= c.PoorOffset && c.PoorOffset <= c.FarOffset):
		return bad("offset bands %v <= %v <= %v <= %v out of order", c.GoodOffset, c.FairOffset, c.PoorOffset, c.FarOffset)
	case c.HighStratum > c.MaxStratum+1:
		return bad("high stratum %d above max stratum %d + 1", c.HighStratum, c.MaxStratum)
	case c.ActiveWindow <= 0 || c.TestingWindow <= 0 || c.AnyWindow <= 0:
		return bad("median windows %v, %v, %v must be positive", c.ActiveWindow, c.TestingWindow, c.AnyWindow)
	case c.DeletionMargin < 0:
		return bad("deletion margin %v is negative", c.DeletionMargin)
	case math.IsNaN(c.MinScore):
		return bad("min score is NaN")
	case !(c.RampWidth >= 0) || !(c.RampFloor >= 0 && c.RampFloor <= 1):
		return bad("ramp width %v (want >= 0) or floor %v (want [0, 1])", c.RampWidth, c.RampFloor)
	}
	return nil
}

// Scaled returns c with the recent-median windows multiplied by f (0 < f),
// for a pool on a fast clock whose probe intervals are scaled by the same
// factor (assign.Config.Scaled). Deletion dates are calendar days and stay.
func (c Config) Scaled(f float64) Config {
	c.ActiveWindow = scale(c.ActiveWindow, f)
	c.TestingWindow = scale(c.TestingWindow, f)
	c.AnyWindow = scale(c.AnyWindow, f)
	return c
}

// scale multiplies d by f, keeping at least a millisecond.
func scale(d time.Duration, f float64) time.Duration {
	return max(time.Millisecond, time.Duration(float64(d)*f))
}

// Fast returns c with recent-median windows for a fast clock where every
// pair is probed each interval (assign.Config.Fast): 3, 5 and 10
// intervals, so a monitor's newest score always counts.
func (c Config) Fast(every time.Duration) Config {
	c.ActiveWindow, c.TestingWindow, c.AnyWindow = 3*every, 5*every, 10*every
	return c
}
