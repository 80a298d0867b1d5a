package wait

import (
	"sync/atomic"
	"testing"
	"time"
)

func TestForReturnsOnceTheConditionHolds(t *testing.T) {
	var n atomic.Int32
	took := For(t, 5*time.Second, "third call", func() bool { return n.Add(1) >= 3 })
	if n.Load() != 3 || took > 5*time.Second {
		t.Fatalf("calls %d, took %v", n.Load(), took)
	}
}

// fakeT records a failure instead of stopping the test.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper() {}
func (f *fakeT) Fatalf(string, ...any) {
	f.failed = true
	panic(f)
}

func TestForFailsAfterTheDeadline(t *testing.T) {
	f := &fakeT{TB: t}
	func() {
		defer func() { recover() }()
		For(f, 30*time.Millisecond, "never", func() bool { return false })
	}()
	if !f.failed {
		t.Fatal("Eventually did not fail on a condition that never holds")
	}
}

func TestUntilReportsTimeout(t *testing.T) {
	if Until(20*time.Millisecond, func() bool { return false }) {
		t.Fatal("Until reported a condition that never holds")
	}
	if !Until(time.Second, func() bool { return true }) {
		t.Fatal("Until missed a condition that holds at once")
	}
}
