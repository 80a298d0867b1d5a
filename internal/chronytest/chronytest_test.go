package chronytest

import (
	"testing"
	"time"

	"github.com/beevik/ntp"
)

func TestStartAnswersAndStops(t *testing.T) {
	s := Start(t, "127.0.0.41")
	r, err := ntp.QueryWithOptions(s.Addr.String(), ntp.QueryOptions{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if r.Stratum != 2 || r.ClockOffset.Abs() > 10*time.Millisecond {
		t.Errorf("stratum %d offset %v, want 2 and ~0", r.Stratum, r.ClockOffset)
	}
	s.stop()
	select {
	case <-s.done:
	default:
		t.Fatal("chronyd still running after stop")
	}
}
