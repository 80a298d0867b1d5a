// Package score holds the pure scoring rules of the pool: the step of one
// probe, the per-monitor score, the overall score ("recent median") of a
// server, and whether and with what weight a server is in the DNS. It takes
// values and returns values; the store and the scheduler call it.
//
// # Rules
//
// Config.Step tries POOL.md's step table in order (no response -5; kiss code
// RATE -3.5; RSTR or DENY -10 capped at -50; stratum 0 without error -2
// capped at 5; other errors, stratum 11-16 or no offset -4; leap indicator 3
// -4 when LeapUnsyncIsError, the default here; absolute offset above 3 s -4
// capped at -20; stratum 8-10 -4; (0.75 s, 3 s] -2; (0.1 s, 0.75 s]
// -2.308*offset+0.731; (0.025 s, 0.1 s] -6.667*offset+1.167; up to 0.025 s
// +1). Config.Next applies new = 0.95*old + step, capped above by the
// step's cap, with no floor. Config.RecentMedian picks the overall score
// from the monitors' newest scores in the 20 min / 45 min / 2 h windows.
// Config.InDNS and Config.Weight decide publication (score >= 10, net speed
// > 0, deletion more than 14 days away; optional weight ramp).
//
// Every number is a Config field; DefaultConfig returns POOL.md's values,
// Validate rejects settings the rules cannot use, and Scaled and Fast
// shorten the median windows for a fast clock (see assign.Config.Fast).
//
// # Usage
//
//	cfg := score.DefaultConfig()
//	st := cfg.Step(score.FromResult(res))          // res is a monitorapi.Result
//	perMonitor := cfg.Next(oldPerMonitor, st)      // store it with st.Value; drop the offset if st.DropOffset
//	overall, ok := cfg.RecentMedian(res.Time, newestPerMonitor) // []score.MonitorScore
//	if ok {
//		srv := score.Server{Score: overall.Score, NetSpeed: netSpeed, Deletion: deletion}
//		publish := cfg.InDNS(now, srv)         // and weight cfg.Weight(now, srv)
//	}
package score
