package score

import (
	"math"

	"github.com/ntppool-ng/ntppool/monitorapi"
)

// Probe is what the step rules look at in one probe result. It maps one to
// one from monitorapi.Result (see FromResult).
type Probe struct {
	// Offset of the server's clock in seconds; nil when there is none.
	Offset     *float64
	Stratum    int
	Leap       int
	RefID      string
	KissCode   string
	NoResponse bool
	// Error is the monitor's error text ("" when there was none).
	Error string
}

// FromResult takes the fields the step rules need from a monitor's result.
func FromResult(r monitorapi.Result) Probe {
	return Probe{
		Offset:     r.Offset,
		Stratum:    r.Stratum,
		Leap:       r.Leap,
		RefID:      r.RefID,
		KissCode:   r.KissCode,
		NoResponse: r.NoResponse,
		Error:      r.Error,
	}
}

// Rule names the row of the step table that produced a Step.
type Rule uint8

// The rows of the step table, in the order they are tried.
const (
	RuleNoResponse Rule = iota // no response: -5
	RuleRate                   // kiss code RATE: -3.5, offset dropped
	RuleDeny                   // kiss code RSTR or DENY: -10, cap -50
	RuleZero                   // stratum 0 without error text: -2, cap 5
	RuleError                  // other errors, stratum 11+, no offset: -4
	RuleLeap                   // leap indicator 3 (option): -4
	RuleFar                    // offset above 3 s: -4, cap -20
	RuleStratum                // stratum 8 to 10: -4
	RulePoor                   // offset in (0.75 s, 3 s]: -2
	RuleFair                   // offset in (0.1 s, 0.75 s]: linear
	RuleGood                   // offset in (0.025 s, 0.1 s]: linear
	RulePerfect                // offset up to 0.025 s: +1
)

var ruleNames = [...]string{"no-response", "rate", "deny", "zero", "error", "leap", "far", "stratum", "poor", "fair", "good", "perfect"}

func (r Rule) String() string {
	if int(r) < len(ruleNames) {
		return ruleNames[r]
	}
	return "unknown"
}

// Step is the outcome of one probe: the step to add and the cap the new
// score may not exceed (+Inf when the rule sets none).
type Step struct {
	Value float64
	Cap   float64
	Rule  Rule
	// DropOffset: the probe's offset must not be recorded (kiss code RATE).
	DropOffset bool
}

func uncapped(v float64, r Rule) Step { return Step{Value: v, Cap: math.Inf(1), Rule: r} }

// Step scores one probe with the rule table of POOL.md, tried in order. Only
// the absolute offset counts and it is compared exactly, without rounding.
func (c Config) Step(p Probe) Step {
	if p.NoResponse {
		return uncapped(c.NoResponseStep, RuleNoResponse)
	}
	if p.Stratum == 0 {
		return c.stratumZero(p)
	}
	if p.Error != "" || p.KissCode != "" || p.Stratum > c.MaxStratum || p.Stratum < 0 || p.Offset == nil {
		return uncapped(c.ErrorStep, RuleError)
	}
	if c.LeapUnsyncIsError && p.Leap == 3 {
		return uncapped(c.LeapUnsyncStep, RuleLeap)
	}
	off := math.Abs(*p.Offset)
	switch {
	case math.IsNaN(off):
		return uncapped(c.ErrorStep, RuleError)
	case off > c.FarOffset:
		return Step{Value: c.FarStep, Cap: c.FarCap, Rule: RuleFar}
	case p.Stratum >= c.HighStratum:
		return uncapped(c.HighStratumStep, RuleStratum)
	case off > c.PoorOffset:
		return uncapped(c.PoorStep, RulePoor)
	case off > c.FairOffset:
		return uncapped(c.FairSlope*off+c.FairIntercept, RuleFair)
	case off > c.GoodOffset:
		return uncapped(c.GoodSlope*off+c.GoodIntercept, RuleGood)
	default:
		return uncapped(c.GoodStep, RulePerfect)
	}
}

// stratumZero scores a kiss-o'-death or otherwise stratum-0 reply. The kiss
// code is KissCode or, when a monitor left it empty, a printable RefID.
func (c Config) stratumZero(p Probe) Step {
	kiss := p.KissCode
	if kiss == "" && printable4(p.RefID) {
		kiss = p.RefID
	}
	switch {
	case kiss == "RATE":
		return Step{Value: c.RateStep, Cap: math.Inf(1), Rule: RuleRate, DropOffset: true}
	case kiss == "RSTR" || kiss == "DENY":
		return Step{Value: c.DenyStep, Cap: c.DenyCap, Rule: RuleDeny}
	case kiss == "" && p.Error == "" && p.RefID == "":
		// Old agents' "untrusted zero offset": no kiss code, no error.
		return Step{Value: c.ZeroStep, Cap: c.ZeroCap, Rule: RuleZero}
	default:
		// Other kiss codes (INIT, STEP, ...), a reference id that is not 4
		// printable characters, or an error text.
		return uncapped(c.ErrorStep, RuleError)
	}
}

// printable4 reports whether s is a valid kiss code: exactly 4 printable
// ASCII characters.
func printable4(s string) bool {
	if len(s) != 4 {
		return false
	}
	for i := range len(s) {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// Next is the per-monitor score after a probe: Decay*old + step, bounded
// above by the step's cap. There is no floor.
func (c Config) Next(old float64, s Step) float64 {
	return math.Min(c.Decay*old+s.Value, s.Cap)
}
