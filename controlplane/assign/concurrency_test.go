package assign

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// TestPlanConcurrent: Plan recycles its scratch space through a pool, so
// concurrent runs must not see each other's entries. Run it under -race.
func TestPlanConcurrent(t *testing.T) {
	f := newFleet(200, 30, time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC))
	cfg := DefaultConfig()
	want := make([][]Change, len(f.servers))
	for i, s := range f.servers {
		want[i] = Plan(s, f.monitors[i], cfg)
	}
	var wg sync.WaitGroup
	errs := make(chan int, len(f.servers)*4)
	for range 4 {
		wg.Go(func() {
			for i, s := range f.servers {
				if !slices.Equal(Plan(s, f.monitors[i], cfg), want[i]) {
					errs <- i
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for i := range errs {
		t.Errorf("server %d: concurrent plan differs from the sequential one", i)
	}
}
