package ntppool

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/coredns/coredns/plugin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Fallback levels of the answers metric: how far the targeting of the apex,
// N. and vendor names fell from the client's country. Explicit labels and
// clients answered from their own country count as "none".
const (
	levelNone      = "none"
	levelContinent = "continent"
	levelGlobal    = "global"
)

var (
	answersTotal = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "answers_total",
		Help:      "Address answers by server, pool zone answered from and fallback level.",
	}, []string{"server", "zone", "fallback"})
	serversGauge = promauto.NewGaugeVec(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "servers",
		Help:      "Servers in the index by pool zone and address family.",
	}, []string{"zone", "family"})
	lastUpdate = promauto.NewGauge(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "last_update_timestamp_seconds",
		Help:      "Time the serving index was last rebuilt from etcd.",
	})
	_ = promauto.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "update_age_seconds",
		Help:      "Seconds since the serving index was last rebuilt from etcd (0 before the first).",
	}, updateAge)
	etcdErrors = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "etcd_errors_total",
		Help:      "Failed etcd operations by operation.",
	}, []string{"op"})
	skippedRecords = promauto.NewCounterVec(prometheus.CounterOpts{
		Namespace: plugin.Namespace,
		Subsystem: pluginName,
		Name:      "skipped_records_total",
		Help:      "etcd records skipped because they did not decode, by reason.",
	}, []string{"reason"})
)

// lastUpdateNanos is the newest rebuild time of any instance, for
// update_age_seconds.
var lastUpdateNanos atomic.Int64

func updateAge() float64 {
	t := lastUpdateNanos.Load()
	if t == 0 {
		return 0
	}
	return time.Since(time.Unix(0, t)).Seconds()
}

func markUpdated(t time.Time) {
	lastUpdateNanos.Store(t.UnixNano())
	lastUpdate.Set(float64(t.UnixNano()) / 1e9)
}

// zoneStats caches the answer counters of one zone so the query path does
// not hash label values on every answer. It is keyed by the server label,
// which is the same for nearly every query of one plugin instance.
type zoneStats struct {
	mu       sync.Mutex
	counters [3]atomic.Pointer[serverCounter]
}

type serverCounter struct {
	server string
	c      prometheus.Counter
}

func levelIndex(level string) int {
	switch level {
	case levelContinent:
		return 1
	case levelGlobal:
		return 2
	}
	return 0
}

// inc counts one answer of zone z for server at fallback level.
func (st *zoneStats) inc(server, zoneName, level string) {
	slot := &st.counters[levelIndex(level)]
	if sc := slot.Load(); sc != nil && sc.server == server {
		sc.c.Inc()
		return
	}
	c := answersTotal.WithLabelValues(server, zoneName, level)
	c.Inc()
	st.mu.Lock()
	if slot.Load() == nil {
		slot.Store(&serverCounter{server: server, c: c})
	}
	st.mu.Unlock()
}

// publishServerCounts sets the servers gauge of zones (every zone when nil)
// from ix.
func publishServerCounts(ix *index, zones []*zone) {
	if zones == nil {
		serversGauge.Reset()
		zones = poolZones().all
	}
	for _, z := range zones {
		for f, family := range [2]string{"ipv4", "ipv6"} {
			if n := ix.count(z, f); n > 0 {
				serversGauge.WithLabelValues(z.name(), family).Set(float64(n))
			} else {
				serversGauge.DeleteLabelValues(z.name(), family)
			}
		}
	}
}

var statsByZone sync.Map // zone name -> *zoneStats, kept across rebuilds

func statsFor(name string) *zoneStats {
	if st, ok := statsByZone.Load(name); ok {
		return st.(*zoneStats)
	}
	st, _ := statsByZone.LoadOrStore(name, new(zoneStats))
	return st.(*zoneStats)
}
