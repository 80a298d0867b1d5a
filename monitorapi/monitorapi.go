// Package monitorapi holds the request and response types of the control
// plane's monitor API (version 1), shared by the control plane and the monitor
// agent. It imports only the standard library.
//
// # Endpoints
//
// Every request carries "Authorization: Bearer <token>", the monitor's own
// token, shown once when the monitor is registered (one token for both IP
// families). A monitor with registered addresses must call from one of them
// unless it is marked behind NAT (403 otherwise). Bodies are JSON.
//
//	GET  /monitor/v1/config   -> Config
//	POST /monitor/v1/work     -> Work        (the servers due, in one batch)
//	POST /monitor/v1/results  Results -> Ack
//
// # Batches and tickets
//
// Work hands out up to Config.BatchMax servers under one BatchID, which is
// time-ordered (a later batch compares greater as a string). Each server comes
// with a Ticket, an HMAC the control plane made over the monitor id, the batch
// id and the IP: the results must return it unchanged, so a monitor can
// report only on servers it was handed in that batch. One bad ticket refuses
// the whole batch. A batch is stored in one transaction and acknowledged only
// after the commit; posting the same batch again answers 200 with
// Ack.Duplicate set and counts nothing twice; a batch older than the newest
// one the monitor has submitted is refused with 409.
//
// # Errors
//
// Failures answer a 4xx or 5xx status with an Error body. 4xx means "this
// request will never succeed as is": a monitor must not retry it unchanged
// (401 bad token, 403 monitor not allowed or ticket invalid, 409 stale batch,
// 413 too large, 400 invalid). 5xx and network errors are worth a retry.
package monitorapi

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"time"
)

// Paths of the version 1 API.
const (
	PathConfig  = "/monitor/v1/config"
	PathWork    = "/monitor/v1/work"
	PathResults = "/monitor/v1/results"
)

// MaxBodyBytes bounds every request body the control plane accepts.
const MaxBodyBytes = 1 << 20

// Duration is a time.Duration written in JSON as a Go duration string ("2s").
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("monitorapi: duration: %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("monitorapi: duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// Config tells a monitor who it is and how to probe.
type Config struct {
	MonitorID int64  `json:"monitor_id"`
	Name      string `json:"name"`
	// Probe: Samples queries, Spacing from the end of one to the start of the
	// next, each bounded by Timeout (POOL.md: 3, 2s, 3s).
	Samples int      `json:"samples"`
	Spacing Duration `json:"spacing"`
	Timeout Duration `json:"timeout"`
	// BatchMax is the largest number of servers in one batch.
	BatchMax int `json:"batch_max"`
	// IdlePoll is how long to wait before asking again when no work was due.
	IdlePoll Duration `json:"idle_poll"`
	// AllowPrivate lets the monitor probe private, loopback and other
	// non-public addresses (a local development pool only).
	AllowPrivate bool `json:"allow_private"`
	// BaseServers are NTP servers ("host:port") the monitor checks its own
	// clock against before testing anything: each must be within
	// BaseMaxOffset with leap != 3, a strict majority must pass, and the
	// verdict is cached for BaseCheckTTL.
	BaseServers   []string `json:"base_servers,omitempty"`
	BaseMaxOffset Duration `json:"base_max_offset"`
	BaseCheckTTL  Duration `json:"base_check_ttl"`
	// IPv4 and IPv6 say which families the monitor is handed servers of;
	// IP4 and IP6 are its registered addresses (absent: none), which it
	// probes from when the host has them.
	IPv4 bool       `json:"ipv4,omitempty"`
	IPv6 bool       `json:"ipv6,omitempty"`
	IP4  netip.Addr `json:"ip4,omitzero"`
	IP6  netip.Addr `json:"ip6,omitzero"`
	// Score holds the control plane's scoring options, for the monitor's
	// log and status: the control plane scores, the monitor only measures.
	Score ScoreOptions `json:"score,omitzero"`
}

// ScoreOptions are the scoring choices an operator can make.
type ScoreOptions struct {
	// LeapUnsyncIsError: a reply with leap indicator 3 counts as an error.
	LeapUnsyncIsError bool `json:"leap_unsync_is_error,omitempty"`
	// RampWidth > 0 ramps a new server's DNS weight from RampFloor of its
	// net speed at the minimum score to all of it RampWidth points higher.
	RampWidth float64 `json:"ramp_width,omitempty"`
	RampFloor float64 `json:"ramp_floor,omitempty"`
}

// ProbeDefaults are the probe and self-check settings of POOL.md, the one
// home of their values: the control plane hands them out unless its
// operator sets others, and the monitor uses them before it has a config.
type ProbeDefaults struct {
	Samples       int
	Spacing       time.Duration
	Timeout       time.Duration
	IdlePoll      time.Duration
	BaseMaxOffset time.Duration
	BaseCheckTTL  time.Duration
}

// DefaultProbe returns the pool's probe settings: 3 samples 2 s apart, each
// within 3 s; a 30 s idle poll; the self-check allows 10 ms and holds for
// 3 minutes.
func DefaultProbe() ProbeDefaults {
	return ProbeDefaults{Samples: 3, Spacing: 2 * time.Second, Timeout: 3 * time.Second,
		IdlePoll: 30 * time.Second, BaseMaxOffset: 10 * time.Millisecond, BaseCheckTTL: 3 * time.Minute}
}

// Work is one batch of servers due for a probe.
type Work struct {
	BatchID string       `json:"batch_id"`
	Servers []Assignment `json:"servers"`
	// NextPoll suggests when to ask for work again if Servers is empty.
	NextPoll Duration `json:"next_poll,omitempty"`
}

// Assignment is one server to probe, with the ticket that binds it to this
// monitor and batch.
type Assignment struct {
	IP     netip.Addr `json:"ip"`
	Ticket string     `json:"ticket"`
}

// Results are the probe results of one batch.
type Results struct {
	BatchID string   `json:"batch_id"`
	Results []Result `json:"results"`
}

// Result is the outcome of one probe (the best of its samples, POOL.md's
// rule). Offset and RTT are absent when no usable reply arrived.
type Result struct {
	IP     netip.Addr `json:"ip"`
	Ticket string     `json:"ticket"`
	// Time the probe finished.
	Time time.Time `json:"ts"`
	// Offset of the server's clock from the monitor's, in seconds (positive:
	// the server is ahead).
	Offset *float64 `json:"offset,omitempty"`
	// RTT is the round-trip delay in seconds.
	RTT     *float64 `json:"rtt,omitempty"`
	Stratum int      `json:"stratum"`
	Leap    int      `json:"leap,omitempty"`
	// RefID is the reference id: 4 ASCII characters for stratum 0 and 1
	// (the kiss code at stratum 0), an IPv4 address or hash otherwise.
	RefID string `json:"ref_id,omitempty"`
	// KissCode is set on a kiss-o'-death reply (stratum 0), e.g. "RATE".
	KissCode string `json:"kiss_code,omitempty"`
	// NoResponse: no sample gave a usable reply (timeouts, refusals,
	// unreachable, or replies the NTP library rejected as malformed): the
	// pool scores all of these as "no response".
	NoResponse bool `json:"no_response,omitempty"`
	// Error describes why the probe failed ("" when it did not).
	Error string `json:"error,omitempty"`
}

// Ack acknowledges a committed batch.
type Ack struct {
	BatchID  string `json:"batch_id"`
	Accepted int    `json:"accepted"`
	// Duplicate: this batch had been committed before; nothing was added.
	Duplicate bool `json:"duplicate,omitempty"`
}

// Error is the body of every non-2xx answer.
type Error struct {
	Error string `json:"error"`
}
