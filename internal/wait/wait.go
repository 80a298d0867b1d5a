// Package wait holds the polling helpers shared by the tests of several
// packages. It imports only the standard library.
package wait

import (
	"testing"
	"time"
)

// Until polls cond until it holds or d passes, and reports whether it held.
// The polling interval starts at 1 ms and doubles up to 20 ms, so quick
// conditions are seen quickly and slow ones do not spin.
func Until(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	pause := time.Millisecond
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(pause) // polling interval of a deadline-bounded wait
		pause = min(2*pause, 20*time.Millisecond)
	}
	return true
}

// For is Until that fails the test when d passes first, and returns how
// long the condition took.
func For(t testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	if !Until(d, cond) {
		t.Fatalf("%s: not within %v", what, d)
	}
	return time.Since(start)
}
