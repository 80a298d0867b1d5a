package assign

import (
	"fmt"
	"math"
	"net/netip"
	"time"

	"github.com/ntppool-ng/ntppool/controlplane/score"
)

// GlobalState is a monitor's own state, for all servers.
type GlobalState uint8

// Global monitor states (POOL.md "Monitors").
const (
	GlobalPending GlobalState = iota
	GlobalTesting
	GlobalActive
	GlobalPaused
	GlobalDeleted
)

var globalNames = [...]string{"pending", "testing", "active", "paused", "deleted"}

func (g GlobalState) String() string {
	if int(g) < len(globalNames) {
		return globalNames[g]
	}
	return fmt.Sprintf("GlobalState(%d)", g)
}

// ParseGlobalState is the inverse of GlobalState.String.
func ParseGlobalState(s string) (GlobalState, error) {
	for i, n := range globalNames {
		if n == s {
			return GlobalState(i), nil
		}
	}
	return GlobalPending, fmt.Errorf("assign: parse global state %q: unknown state", s)
}

// Works reports whether a monitor in this state may fetch work and submit
// results (globally active or testing).
func (g GlobalState) Works() bool { return g == GlobalActive || g == GlobalTesting }

// Server is the server whose monitors Plan selects.
type Server struct {
	IP        netip.Addr
	AccountID int64 // 0: no account
}

// Health is a monitor's record for one server over Config.HealthWindow.
type Health struct {
	Points  int           // probe rows in the window
	AvgStep float64       // average step of those rows
	AvgRTT  time.Duration // average round-trip time
}

// Healthy: some data and an average step of at least 0.
func (h Health) Healthy() bool { return h.Points > 0 && h.AvgStep >= 0 }

// Priority is average RTT in ms * (1 + 2*(1 - average step)); lower is
// better. Without data it is +Inf.
func (h Health) Priority() float64 {
	if h.Points <= 0 {
		return math.Inf(1)
	}
	ms := float64(h.AvgRTT) / float64(time.Millisecond)
	return ms * (1 + 2*(1-h.AvgStep))
}

// MonitorStatus is one monitor as seen from one server.
type MonitorStatus struct {
	ID        int64
	AccountID int64      // 0: no account
	IP        netip.Addr // the monitor's address of the server's IP version; invalid: unknown
	Global    GlobalState
	State     score.State // state for this server; score.None: no row yet
	Health    Health
}

// Reason says why Plan proposes a Change.
type Reason uint8

// Reasons for a change.
const (
	ReasonNew       Reason = iota // a monitor without a row becomes a candidate
	ReasonBlocked                 // breaks a constraint or its global state forbids the state
	ReasonExcess                  // more monitors in the state than the target
	ReasonFill                    // promoted to reach the target
	ReasonReplace                 // promoted in place of a worse monitor
	ReasonReplaced                // demoted for a better monitor
	ReasonUnhealthy               // active monitor demoted for poor health
	ReasonBootstrap               // promoted to testing for a server without testing monitors
)

var reasonNames = [...]string{"new", "blocked", "excess", "fill", "replace", "replaced", "unhealthy", "bootstrap"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("Reason(%d)", r)
}

// Change moves one monitor from one state to another for the server.
type Change struct {
	MonitorID int64
	From, To  score.State
	Reason    Reason
}
