package score

import (
	"math"
	"testing"
)

// FuzzStep feeds arbitrary probes to the rule table: it never panics, the
// step stays within the table's range, a cap is only set by the capping
// rules, and for a plain reply a larger offset never scores better (to
// the 0.0004 jumps the table has at its band edges).
func FuzzStep(f *testing.F) {
	f.Add(0.01, 0.2, 2, 0, "", "", "", false)
	f.Add(3.5, 0.8, 0, 3, "RATE", "RATE", "kiss", false)
	f.Add(-0.1, 0.1, 16, 0, "\x00\x00\x00\x01", "", "x", true)
	cfg := DefaultConfig()
	f.Fuzz(func(t *testing.T, o1, o2 float64, stratum, leap int, refID, kiss, errText string, noResp bool) {
		p := Probe{Offset: &o1, Stratum: stratum, Leap: leap, RefID: refID, KissCode: kiss, Error: errText, NoResponse: noResp}
		st := cfg.Step(p)
		if !(st.Value >= -10 && st.Value <= 1.17) {
			t.Fatalf("step %v out of range for %+v", st.Value, p)
		}
		switch st.Rule {
		case RuleDeny, RuleZero, RuleFar:
			if math.IsInf(st.Cap, 1) {
				t.Fatalf("rule %v without its cap", st.Rule)
			}
		default:
			if !math.IsInf(st.Cap, 1) {
				t.Fatalf("rule %v with cap %v", st.Rule, st.Cap)
			}
		}
		if next := cfg.Next(20, st); next > 20 || math.IsNaN(next) {
			t.Fatalf("score from 20 went to %v", next)
		}
		a, b := math.Abs(o1), math.Abs(o2)
		if math.IsNaN(a) || math.IsNaN(b) || a > b {
			return
		}
		s1, s2 := cfg.Step(ok(o1)).Value, cfg.Step(ok(o2)).Value
		if s2 > s1+0.0004 {
			t.Fatalf("offset %v scores %v, better than %v at %v", o2, s2, s1, o1)
		}
	})
}
