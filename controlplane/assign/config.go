package assign

import "time"

// Config holds the targets, limits, constraints and intervals of monitor
// selection. DefaultConfig returns POOL.md's values; a zero prefix length
// or account limit switches that constraint off (a loopback-only local
// pool switches off the server-network, same-account and spread rules).
type Config struct {
	// TargetActive active monitors per server, and TargetTesting +
	// max(0, TargetActive - active) testing ones.
	TargetActive  int // 7
	TargetTesting int // 5

	// At most MaxChanges changes per run in each category (active
	// demotions, testing demotions, promotions); MaxChangesBlocked when
	// more than one monitor is blocked; MaxChangesBootstrap when the server
	// has no active monitor.
	MaxChanges          int // 2
	MaxChangesBlocked   int // 3
	MaxChangesBootstrap int // 4
	// BootstrapTesting: when a server has no testing monitor, up to this
	// many candidates (or new monitors) become testing in one run, outside
	// the change limits and without the data-point minimum.
	BootstrapTesting int // 5

	// A replacement must beat the incumbent's priority by ReplaceRatio of
	// it and by ReplacePoints.
	ReplaceRatio  float64 // 0.05
	ReplacePoints float64 // 5

	// Data points (probe rows in the health window) needed to be promoted.
	MinPointsTesting int // 9
	MinPointsActive  int // 32

	// A monitor may not sit in the server's own network of this prefix
	// length (0: allowed).
	ServerNetV4 int // 24
	ServerNetV6 int // 48
	// ExcludeOwnAccount: a monitor run by the server's account may not
	// watch it.
	ExcludeOwnAccount bool // true
	// Per account on one server: at most this many active, testing, and
	// active+testing monitors (0: no limit).
	AccountMaxActive  int // 2
	AccountMaxTesting int // 3
	AccountMaxTotal   int // 3
	// No two active or testing monitors of a server in one network of this
	// prefix length (0: allowed).
	SpreadV4 int // 20
	SpreadV6 int // 44

	// Probe intervals, counted from when the server was last handed to the
	// monitor.
	ActiveInterval        time.Duration // 9m: active pair, monitor globally active
	ActiveTestingInterval time.Duration // 45m: active pair, monitor globally testing
	TestingInterval       time.Duration // 45m: testing pair
	SlowInterval          time.Duration // 2h: candidate, paused, or score <= SlowScore
	SlowScore             float64       // -90
	// A server is not handed out again within MinRescore of its last
	// overall-score update (across all monitors).
	MinRescore time.Duration // 60s

	// Selection is re-run for a server every Reevaluate, or
	// ReevaluateAfterChange after a run that changed something. Health is
	// measured over HealthWindow.
	Reevaluate            time.Duration // 20m
	ReevaluateAfterChange time.Duration // 60m
	HealthWindow          time.Duration // 24h
}

// DefaultConfig returns POOL.md's selection rules and intervals.
func DefaultConfig() Config {
	return Config{
		TargetActive:          7,
		TargetTesting:         5,
		MaxChanges:            2,
		MaxChangesBlocked:     3,
		MaxChangesBootstrap:   4,
		BootstrapTesting:      5,
		ReplaceRatio:          0.05,
		ReplacePoints:         5,
		MinPointsTesting:      9,
		MinPointsActive:       32,
		ServerNetV4:           24,
		ServerNetV6:           48,
		ExcludeOwnAccount:     true,
		AccountMaxActive:      2,
		AccountMaxTesting:     3,
		AccountMaxTotal:       3,
		SpreadV4:              20,
		SpreadV6:              44,
		ActiveInterval:        9 * time.Minute,
		ActiveTestingInterval: 45 * time.Minute,
		TestingInterval:       45 * time.Minute,
		SlowInterval:          2 * time.Hour,
		SlowScore:             -90,
		MinRescore:            60 * time.Second,
		Reevaluate:            20 * time.Minute,
		ReevaluateAfterChange: 60 * time.Minute,
		HealthWindow:          24 * time.Hour,
	}
}

// Local returns DefaultConfig with the network and account constraints off,
// for a pool whose servers and monitors all live on loopback under one
// account.
func Local() Config {
	c := DefaultConfig()
	c.ServerNetV4, c.ServerNetV6 = 0, 0
	c.SpreadV4, c.SpreadV6 = 0, 0
	c.ExcludeOwnAccount = false
	c.AccountMaxActive, c.AccountMaxTesting, c.AccountMaxTotal = 0, 0, 0
	return c
}
