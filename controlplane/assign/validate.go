package assign

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// ErrConfig is wrapped by every error of Config.Validate.
var ErrConfig = errors.New("assign: invalid config")

// Validate reports the first setting the selection cannot work with:
// negative targets or limits, a run that may change nothing, a prefix
// length beyond the address size, a negative interval (0 is allowed: due
// every time), an empty health window.
func (c Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, a...))
	}
	switch {
	case c.TargetActive < 0 || c.TargetTesting < 0:
		return bad("targets %d active, %d testing must not be negative", c.TargetActive, c.TargetTesting)
	case c.MaxChanges < 1 || c.MaxChangesBlocked < 1 || c.MaxChangesBootstrap < 1:
		return bad("change limits %d, %d, %d must be at least 1", c.MaxChanges, c.MaxChangesBlocked, c.MaxChangesBootstrap)
	case c.BootstrapTesting < 0:
		return bad("bootstrap promotions %d must not be negative", c.BootstrapTesting)
	case !(c.ReplaceRatio >= 0) || !(c.ReplacePoints >= 0):
		return bad("replacement margin %v, %v must not be negative", c.ReplaceRatio, c.ReplacePoints)
	case c.MinPointsTesting < 0 || c.MinPointsActive < 0:
		return bad("data-point thresholds %d, %d must not be negative", c.MinPointsTesting, c.MinPointsActive)
	case c.ServerNetV4 < 0 || c.ServerNetV4 > 32 || c.SpreadV4 < 0 || c.SpreadV4 > 32:
		return bad("IPv4 prefix lengths /%d, /%d outside 0..32", c.ServerNetV4, c.SpreadV4)
	case c.ServerNetV6 < 0 || c.ServerNetV6 > 128 || c.SpreadV6 < 0 || c.SpreadV6 > 128:
		return bad("IPv6 prefix lengths /%d, /%d outside 0..128", c.ServerNetV6, c.SpreadV6)
	case c.AccountMaxActive < 0 || c.AccountMaxTesting < 0 || c.AccountMaxTotal < 0:
		return bad("account limits must not be negative")
	case c.ActiveInterval < 0 || c.ActiveTestingInterval < 0 || c.TestingInterval < 0 || c.SlowInterval < 0:
		return bad("probe intervals must not be negative")
	case c.MinRescore < 0 || math.IsNaN(c.SlowScore):
		return bad("rescore gap %v or slow score %v", c.MinRescore, c.SlowScore)
	case c.Reevaluate < 0 || c.ReevaluateAfterChange < 0:
		return bad("selection intervals must not be negative")
	case c.HealthWindow <= 0:
		return bad("health window %v must be positive", c.HealthWindow)
	}
	return nil
}

// Scaled returns c with every interval and window multiplied by f (0 < f),
// for a pool on a fast clock: f = 1.0/180 probes active pairs every 3 s.
// Counts and thresholds stay, so a server still needs 14 good probes.
func (c Config) Scaled(f float64) Config {
	for _, d := range []*time.Duration{
		&c.ActiveInterval, &c.ActiveTestingInterval, &c.TestingInterval, &c.SlowInterval,
		&c.MinRescore, &c.Reevaluate, &c.ReevaluateAfterChange, &c.HealthWindow,
	} {
		*d = max(time.Millisecond, time.Duration(float64(*d)*f))
	}
	return c
}

// NextRun is when the selection runs again for a server whose last run was
// at last: Reevaluate later, or ReevaluateAfterChange when that run changed
// something.
func (c Config) NextRun(last time.Time, changed bool) time.Time {
	if changed {
		return last.Add(c.ReevaluateAfterChange)
	}
	return last.Add(c.Reevaluate)
}

// Fast returns c on a fast clock for the one-command pool and tests: every
// pair is probed each interval whatever its state, a server may be
// rescored after every/3, the selection runs every interval (twice that
// after a change), and health covers 100 intervals so the data-point
// thresholds can be met. With score.Config.Fast(every) a new server with
// perfect probes enters the DNS after 14 intervals.
func (c Config) Fast(every time.Duration) Config {
	c.ActiveInterval, c.ActiveTestingInterval, c.TestingInterval, c.SlowInterval = every, every, every, every
	c.MinRescore = every / 3
	c.Reevaluate, c.ReevaluateAfterChange = every, 2*every
	c.HealthWindow = 100 * every
	return c
}
