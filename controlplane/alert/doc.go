// Package alert decides when an account is emailed about a failing server
// and when a long-failing server is removed automatically (POOL.md "Servers
// and accounts"). rules.go holds the pure rules: values in, values out.
//
// # Rules
//
//   - Config.Failing: in the pool, no deletion date within 16 days, overall
//     score -15 or below. An alert email lists every failing server of the
//     account.
//   - Config.Check: Send for a failing server never alerted; again only when
//     the last alert is more than 14 days old and the score is not more than
//     10 above the last emailed score; Clear once the score is above 10.
//   - Config.Removal: in the pool, no deletion date, score below 0, first
//     alert more than 45 days ago, last more than 5 days ago, score not more
//     than 10 above the last emailed score: schedule deletion 2 days ahead.
//
// # Usage
//
//	cfg := alert.DefaultConfig()
//	srv := alert.Server{InPool: true, Score: overall, Deletion: del, Alert: stored}
//	switch cfg.Check(now, srv) {
//	case alert.Send:  // email the account (listing its cfg.Failing servers), then store srv.Alert.Sent(now, overall)
//	case alert.Clear: // store alert.State{}
//	}
//	if when, ok := cfg.Removal(now, srv); ok {
//		// schedule deletion at when, email the account
//	}
package alert
