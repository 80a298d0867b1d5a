package score

import (
	"math"
	"testing"

	"github.com/ntppool-ng/ntppool/monitorapi"
)

func off(v float64) *float64 { return &v }

// ok is a plain good reply at stratum 2 with offset o.
func ok(o float64) Probe { return Probe{Offset: off(o), Stratum: 2} }

// TestStepTable checks POOL.md's step table row by row, with offsets at and
// just around every boundary. Offsets are compared exactly, so the value
// right at a boundary belongs to the band below it; step values are
// compared to 1e-12 because Go folds the expected constants exactly.
func TestStepTable(t *testing.T) {
	inf := math.Inf(1)
	const eps = 1e-9
	cases := []struct {
		name string
		p    Probe
		step float64
		cap  float64
		rule Rule
	}{
		{"no response", Probe{NoResponse: true, Offset: off(0)}, -5, inf, RuleNoResponse},
		{"no response beats kiss", Probe{NoResponse: true, KissCode: "DENY"}, -5, inf, RuleNoResponse},
		{"RATE", Probe{KissCode: "RATE", Offset: off(0.001)}, -3.5, inf, RuleRate},
		{"RATE from refid", Probe{RefID: "RATE"}, -3.5, inf, RuleRate},
		{"RSTR", Probe{KissCode: "RSTR"}, -10, -50, RuleDeny},
		{"DENY", Probe{KissCode: "DENY", Error: "kiss of death"}, -10, -50, RuleDeny},
		{"DENY from refid", Probe{RefID: "DENY"}, -10, -50, RuleDeny},
		{"INIT", Probe{KissCode: "INIT", Offset: off(0)}, -4, inf, RuleError},
		{"STEP", Probe{KissCode: "STEP"}, -4, inf, RuleError},
		{"lower-case rate is not RATE", Probe{KissCode: "rate"}, -4, inf, RuleError},
		{"stratum 0 untrusted zero offset", Probe{Offset: off(0)}, -2, 5, RuleZero},
		{"stratum 0 no offset no error", Probe{}, -2, 5, RuleZero},
		{"stratum 0 refid non-printable", Probe{RefID: "\x00\x01\x02\x03", Offset: off(0)}, -4, inf, RuleError},
		{"stratum 0 refid 3 chars", Probe{RefID: "ABC"}, -4, inf, RuleError},
		{"stratum 0 refid with DEL", Probe{RefID: "AB\x7fC"}, -4, inf, RuleError},
		{"stratum 0 error text", Probe{Error: "bad reply"}, -4, inf, RuleError},
		{"error text", Probe{Stratum: 2, Offset: off(0), Error: "invalid"}, -4, inf, RuleError},
		{"no offset", Probe{Stratum: 2}, -4, inf, RuleError},
		{"negative stratum", Probe{Stratum: -1, Offset: off(0)}, -4, inf, RuleError},
		{"NaN offset", Probe{Stratum: 2, Offset: off(math.NaN())}, -4, inf, RuleError},
		{"stratum 11", Probe{Stratum: 11, Offset: off(0)}, -4, inf, RuleError},
		{"stratum 16", Probe{Stratum: 16, Offset: off(0)}, -4, inf, RuleError},
		{"stratum 16 far offset is an error, no cap", Probe{Stratum: 16, Offset: off(10)}, -4, inf, RuleError},
		{"stratum 8", Probe{Stratum: 8, Offset: off(0)}, -4, inf, RuleStratum},
		{"stratum 9", Probe{Stratum: 9, Offset: off(0.5)}, -4, inf, RuleStratum},
		{"stratum 10", Probe{Stratum: 10, Offset: off(0)}, -4, inf, RuleStratum},
		{"stratum 10 far offset caps", Probe{Stratum: 10, Offset: off(4)}, -4, -20, RuleFar},
		{"stratum 7", Probe{Stratum: 7, Offset: off(0)}, 1, inf, RulePerfect},
		{"stratum 1", Probe{Stratum: 1, Offset: off(0)}, 1, inf, RulePerfect},
		{"offset 3 s + eps", ok(3 + eps), -4, -20, RuleFar},
		{"offset -3 s - eps", ok(-3 - eps), -4, -20, RuleFar},
		{"offset 3 s", ok(3), -2, inf, RulePoor},
		{"offset -3 s", ok(-3), -2, inf, RulePoor},
		{"offset 3 s - eps", ok(3 - eps), -2, inf, RulePoor},
		{"offset 0.75 s + eps", ok(0.75 + eps), -2, inf, RulePoor},
		{"offset 0.75 s", ok(0.75), -2.308*0.75 + 0.731, inf, RuleFair},
		{"offset -0.75 s", ok(-0.75), -2.308*0.75 + 0.731, inf, RuleFair},
		{"offset 0.5 s", ok(0.5), -2.308*0.5 + 0.731, inf, RuleFair},
		{"offset 0.1 s + eps", ok(0.1 + eps), -2.308*(0.1+eps) + 0.731, inf, RuleFair},
		{"offset 0.1 s", ok(0.1), -6.667*0.1 + 1.167, inf, RuleGood},
		{"offset -0.1 s", ok(-0.1), -6.667*0.1 + 1.167, inf, RuleGood},
		{"offset 0.05 s", ok(0.05), -6.667*0.05 + 1.167, inf, RuleGood},
		{"offset 0.025 s + eps", ok(0.025 + eps), -6.667*(0.025+eps) + 1.167, inf, RuleGood},
		{"offset 0.025 s", ok(0.025), 1, inf, RulePerfect},
		{"offset -0.025 s", ok(-0.025), 1, inf, RulePerfect},
		{"offset 0.025 s - eps", ok(0.025 - eps), 1, inf, RulePerfect},
		{"offset 0", ok(0), 1, inf, RulePerfect},
		{"leap 3", Probe{Stratum: 2, Leap: 3, Offset: off(0)}, -4, inf, RuleLeap},
		{"leap 3 far offset", Probe{Stratum: 2, Leap: 3, Offset: off(5)}, -4, inf, RuleLeap},
		{"leap 1 is fine", Probe{Stratum: 2, Leap: 1, Offset: off(0)}, 1, inf, RulePerfect},
		{"leap 3 no response", Probe{Leap: 3, NoResponse: true}, -5, inf, RuleNoResponse},
	}
	cfg := DefaultConfig()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := cfg.Step(tc.p)
			if math.Abs(got.Value-tc.step) > 1e-12 || got.Cap != tc.cap || got.Rule != tc.rule {
				t.Errorf("Step = {%v cap %v %v}, want {%v cap %v %v}", got.Value, got.Cap, got.Rule, tc.step, tc.cap, tc.rule)
			}
			if got.DropOffset != (tc.rule == RuleRate) {
				t.Errorf("DropOffset = %v", got.DropOffset)
			}
		})
	}
}

// TestStepBandEdges checks the values the bands reach at their edges, so a
// wrong slope or intercept in the Config cannot pass unnoticed.
func TestStepBandEdges(t *testing.T) {
	cfg := DefaultConfig()
	for _, tc := range []struct {
		o, want float64
	}{
		{0.75, -1.0},
		{0.1, 0.5003},
		{0.1 + 1e-12, 0.5002},
		{0.025 + 1e-12, 1.000325},
	} {
		if got := cfg.Step(ok(tc.o)).Value; math.Abs(got-tc.want) > 1e-6 {
			t.Errorf("step at %v = %v, want %v", tc.o, got, tc.want)
		}
	}
}

func TestStepLeapOff(t *testing.T) {
	cfg := DefaultConfig()
	cfg.LeapUnsyncIsError = false
	for _, tc := range []struct {
		o    float64
		want Rule
	}{{0, RulePerfect}, {0.05, RuleGood}, {5, RuleFar}} {
		if got := cfg.Step(Probe{Stratum: 2, Leap: 3, Offset: off(tc.o)}); got.Rule != tc.want {
			t.Errorf("leap 3 offset %v with option off: rule %v, want %v", tc.o, got.Rule, tc.want)
		}
	}
	cfg.LeapUnsyncIsError, cfg.LeapUnsyncStep = true, -7
	if got := cfg.Step(Probe{Stratum: 2, Leap: 3, Offset: off(0)}).Value; got != -7 {
		t.Errorf("configured leap step = %v, want -7", got)
	}
}

func TestFromResult(t *testing.T) {
	o := 0.01
	r := monitorapi.Result{Offset: &o, Stratum: 3, Leap: 1, RefID: "GPS", KissCode: "", NoResponse: false, Error: "x"}
	p := FromResult(r)
	if p.Offset != &o || p.Stratum != 3 || p.Leap != 1 || p.RefID != "GPS" || p.Error != "x" {
		t.Errorf("FromResult = %+v", p)
	}
	if !FromResult(monitorapi.Result{NoResponse: true}).NoResponse {
		t.Error("NoResponse lost")
	}
	if FromResult(monitorapi.Result{KissCode: "RATE"}).KissCode != "RATE" {
		t.Error("KissCode lost")
	}
}

func TestRuleString(t *testing.T) {
	if RuleDeny.String() != "deny" || Rule(200).String() != "unknown" {
		t.Error("Rule.String")
	}
}
