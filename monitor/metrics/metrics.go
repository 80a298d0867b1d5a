// Package metrics holds the monitor agent's Prometheus metrics, registered
// on a registry of the caller's (never the global one), named
// ntppool_monitor_*.
package metrics

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the agent's gauges and counters.
type Metrics struct {
	Probes         *prometheus.CounterVec // by result: see probe.Kinds
	ProbesInFlight prometheus.Gauge
	QueueBatches   prometheus.Gauge
	Batches        *prometheus.CounterVec // submitted batches by outcome
	LastSubmit     prometheus.Gauge
	ClockOffset    prometheus.Gauge
	ClockTrusted   prometheus.Gauge
	WorkWaits      *prometheus.CounterVec // why the agent did not fetch work
}

// Batch outcomes, the "outcome" label of ntppool_monitor_batches_total.
const (
	BatchAccepted  = "accepted"
	BatchDuplicate = "duplicate"
	BatchRefused   = "refused"
)

// New registers the metrics on reg.
func New(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		Probes: f.NewCounterVec(prometheus.CounterOpts{
			Name: "ntppool_monitor_probes_total",
			Help: "Probes finished, by result (ok, timeout, refused, kod, ...).",
		}, []string{"result"}),
		ProbesInFlight: f.NewGauge(prometheus.GaugeOpts{
			Name: "ntppool_monitor_probes_in_flight",
			Help: "Servers being probed now (including their start jitter).",
		}),
		QueueBatches: f.NewGauge(prometheus.GaugeOpts{
			Name: "ntppool_monitor_queue_batches",
			Help: "Result batches stored on disk, waiting to be acknowledged.",
		}),
		Batches: f.NewCounterVec(prometheus.CounterOpts{
			Name: "ntppool_monitor_batches_total",
			Help: "Result batches the control plane answered, by outcome (accepted, duplicate, refused).",
		}, []string{"outcome"}),
		LastSubmit: f.NewGauge(prometheus.GaugeOpts{
			Name: "ntppool_monitor_last_submit_timestamp_seconds",
			Help: "When the control plane last acknowledged a batch (Unix time).",
		}),
		ClockOffset: f.NewGauge(prometheus.GaugeOpts{
			Name: "ntppool_monitor_clock_offset_seconds",
			Help: "Own clock's offset from the base servers (median; positive: they are ahead).",
		}),
		ClockTrusted: f.NewGauge(prometheus.GaugeOpts{
			Name: "ntppool_monitor_clock_trusted",
			Help: "1 when the own clock passed its check and the agent probes, 0 when it refuses to.",
		}),
		WorkWaits: f.NewCounterVec(prometheus.CounterOpts{
			Name: "ntppool_monitor_work_waits_total",
			Help: "Times the agent held off fetching work, by reason (clock, queue_full, api_refused).",
		}, []string{"reason"}),
	}
}

// Handler serves the registry's metrics.
func Handler(reg *prometheus.Registry) http.Handler {
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
}
