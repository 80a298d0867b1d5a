package score

import "time"

// Config holds every threshold, step, cap and window of the scoring rules.
// DefaultConfig returns POOL.md's values; tests and the one-command pool
// shorten the windows to run on a fast clock.
type Config struct {
	// Steps and caps of the rule table, in the order the rules are tried.
	NoResponseStep float64 // no response at all: -5
	RateStep       float64 // kiss code RATE: -3.5 (the offset is dropped)
	DenyStep       float64 // kiss code RSTR or DENY: -10 ...
	DenyCap        float64 // ... and the score is capped at -50
	ZeroStep       float64 // stratum 0 without any error text: -2 ...
	ZeroCap        float64 // ... and the score is capped at 5
	ErrorStep      float64 // any other error, stratum 11-16, no offset: -4

	// LeapUnsyncIsError scores a reply with leap indicator 3 (clock not
	// synchronised) as an error with LeapUnsyncStep. The pool ignores the
	// leap indicator; clients such as chrony reject such a server, so this
	// project counts it by default.
	LeapUnsyncIsError bool
	LeapUnsyncStep    float64 // -4

	// FarOffset (seconds): a larger absolute offset gets FarStep and FarCap.
	FarOffset float64 // 3
	FarStep   float64 // -4
	FarCap    float64 // -20
	// HighStratum..MaxStratum (8..10) gets HighStratumStep; a stratum above
	// MaxStratum (11..16 and beyond) is an error.
	HighStratum     int     // 8
	MaxStratum      int     // 10
	HighStratumStep float64 // -4
	// Offset bands (seconds), upper bounds inclusive: (Poor, FarOffset]
	// gets PoorStep; (Fair, Poor] and (Good, Fair] follow a line
	// slope*offset + intercept; up to Good gets GoodStep.
	PoorOffset    float64 // 0.75
	PoorStep      float64 // -2
	FairOffset    float64 // 0.1
	FairSlope     float64 // -2.308 (over (0.1, 0.75])
	FairIntercept float64 // 0.731
	GoodOffset    float64 // 0.025
	GoodSlope     float64 // -6.667 (over (0.025, 0.1])
	GoodIntercept float64 // 1.167
	GoodStep      float64 // +1 (up to 0.025 inclusive)

	// Decay: new = Decay*old + step, then capped.
	Decay float64 // 0.95

	// Recent-median windows, counted back from the newest result's time.
	ActiveWindow  time.Duration // 20m: active monitors only
	TestingWindow time.Duration // 45m: active or testing monitors
	AnyWindow     time.Duration // 2h: testing or candidate monitors

	// DNS eligibility: overall score >= MinScore, net speed > 0, deletion
	// date more than DeletionMargin away.
	MinScore       float64       // 10
	DeletionMargin time.Duration // 14 days

	// RampWidth > 0 ramps a server's DNS weight as its score climbs past
	// MinScore: at MinScore it gets RampFloor of its net speed, rising
	// linearly to the whole net speed at MinScore+RampWidth. 0 (the
	// default, as in the pool) publishes the whole net speed at once.
	RampWidth float64 // 0 (off)
	RampFloor float64 // 0.1
}

// DefaultConfig returns POOL.md's rules, with this project's leap indicator
// rule on and the weight ramp off.
func DefaultConfig() Config {
	return Config{
		NoResponseStep:    -5,
		RateStep:          -3.5,
		DenyStep:          -10,
		DenyCap:           -50,
		ZeroStep:          -2,
		ZeroCap:           5,
		ErrorStep:         -4,
		LeapUnsyncIsError: true,
		LeapUnsyncStep:    -4,
		FarOffset:         3,
		FarStep:           -4,
		FarCap:            -20,
		HighStratum:       8,
		MaxStratum:        10,
		HighStratumStep:   -4,
		PoorOffset:        0.75,
		PoorStep:          -2,
		FairOffset:        0.1,
		FairSlope:         -2.308,
		FairIntercept:     0.731,
		GoodOffset:        0.025,
		GoodSlope:         -6.667,
		GoodIntercept:     1.167,
		GoodStep:          1,
		Decay:             0.95,
		ActiveWindow:      20 * time.Minute,
		TestingWindow:     45 * time.Minute,
		AnyWindow:         2 * time.Hour,
		MinScore:          10,
		DeletionMargin:    14 * 24 * time.Hour,
		RampWidth:         0,
		RampFloor:         0.1,
	}
}
