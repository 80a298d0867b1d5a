// Package assign holds the pure rules of monitor selection: which monitors
// are candidate, testing or active for a server (Plan), and when a (monitor,
// server) pair is due for a probe (Config.Due). It takes values and returns
// values; the store and the scheduler call it.
//
// # Selection
//
// Plan runs once per server (every Config.Reevaluate, or
// Config.ReevaluateAfterChange after a run that changed something), with
// every monitor of the server's IP version and its record for that server
// over Config.HealthWindow. Monitors rank healthy first (average step >= 0),
// then by priority = average RTT in ms * (1 + 2*(1 - average step)), lower
// first, then higher average step, lower RTT, lower id. A run, in order:
//
//  1. Blocked monitors leave: an active or testing monitor whose global state
//     is not active or testing, that sits in the server's /24 (/48), that is
//     run by the server's account, or that breaks a per-account limit (2
//     active, 3 testing, 3 in all) or the spread rule (no two in one /20 or
//     /44) next to better-ranked ones; an active monitor that is only
//     globally testing goes back to testing.
//  2. Active monitors in poor health (no data or average step below 0)
//     go back to testing, worst first, while a healthy active monitor
//     stays (when every monitor sees the server badly, the server is at
//     fault); never the last active one. Only healthy monitors are
//     promoted to active.
//  3. Active monitors above the target (7) are demoted, worst first, never
//     the last one; testing monitors fill up to the target, best first
//     (globally active, 32 data points); a testing monitor replaces the
//     worst active when it is healthy and the active is not, or when its
//     priority is lower by 5% and by 5 points.
//  4. Bootstrap: a server that had no testing monitor at the start of the
//     run gets up to 5 candidates (new rows included) promoted to testing
//     at once, best first within the constraints, without the data-point
//     minimum and outside the change limits; the run ends there. A new
//     server is thus probed at the testing interval (45 min) from its
//     first run, and with perfect answers reaches 10 after 14 probes,
//     about 10 hours.
//  5. Otherwise the same as 3 for testing monitors, target 5 + max(0,
//     7 - active), promoted from candidates with 9 data points.
//
// Each run changes at most 2 monitors per category (active demotions,
// testing demotions, promotions); 3 when more than one monitor is blocked,
// 4 when the server has no active monitor. Every number and constraint is
// a Config field: Local() switches the network and account rules off for a
// pool on loopback under one account.
//
// # Health
//
// MonitorStatus.Health is the monitor's probe rows for the server within
// Config.HealthWindow (24 h): their count, average step and average RTT
// (rows without an RTT left out of that average, as SQL's AVG does).
//
// # Probe intervals
//
// Config.Interval, NextDue and Due: an active pair every 9 min (45 min when
// the monitor is only globally testing), a testing pair every 45 min,
// candidates, paused pairs and pairs at -90 or below every 2 h; never within
// 60 s of the server's last overall-score update, never on or after its
// deletion date, never for a monitor that is not globally active or
// testing.
//
// # Clocks
//
// Config.Scaled(f) multiplies every interval and window; Config.Fast(every)
// probes every pair each interval, for the one-command pool (with
// score.Config.Fast(every) a perfect new server is in the DNS after 14
// intervals). Config.Validate rejects settings the rules cannot use.
//
// # Usage
//
//	cfg := assign.DefaultConfig() // or assign.Local().Fast(2 * time.Second)
//	changes := assign.Plan(assign.Server{IP: ip, AccountID: owner}, monitors, cfg)
//	for _, c := range changes {
//		// store: set monitor c.MonitorID's state for the server from c.From to c.To
//		// (c.From == score.None: create the row)
//	}
//
//	pair := assign.Pair{State: st, Global: g, Score: s, Handed: handed, Scored: scored, Deletion: del}
//	if cfg.Due(now, pair) { /* hand the server to the monitor */ }
//	next, ok := cfg.NextDue(pair) // for a "due at" column; !ok: never
//	rerun := cfg.NextRun(ranAt, len(changes) > 0)
package assign
