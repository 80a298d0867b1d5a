// Package wait holds the polling helper shared by the tests of several packages.
// It imports only the standard library.
package wait

import (
	"testing"
	"time"
)

// For polls cond until it holds, failing the test when d passes
// first, and returns how long it took. The polling interval starts at 1 ms
// and doubles up to 20 ms, so quick conditions are seen quickly and slow ones
// do not spin.
func For(t testing.TB, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	wait := time.Millisecond
	for !cond() {
		if time.Since(start) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(wait) // polling interval of a deadline-bounded wait
		wait = min(2*wait, 20*time.Millisecond)
	}
	return time.Since(start)
}
