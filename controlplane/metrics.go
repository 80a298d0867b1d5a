package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// newMetrics registers the control plane's metrics, read from the parts'
// own counters when scraped.
func (a *app) newMetrics() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewDBStatsCollector(a.st.DB(), "controlplane"))
	f := promauto.With(reg)
	st := a.api.Stats()
	f.NewCounterFunc(prometheus.CounterOpts{Name: "ntppool_controlplane_results_total",
		Help: "Probe results committed from monitors."}, func() float64 { return float64(st.Results.Load()) })
	f.NewCounterFunc(prometheus.CounterOpts{Name: "ntppool_controlplane_batches_total",
		Help: "Result batches committed."}, func() float64 { return float64(st.Batches.Load()) })
	f.NewCounterFunc(prometheus.CounterOpts{Name: "ntppool_controlplane_batch_duplicates_total",
		Help: "Replayed batches answered as duplicates."}, func() float64 { return float64(st.Duplicates.Load()) })
	f.NewCounterFunc(prometheus.CounterOpts{Name: "ntppool_controlplane_api_refused_total",
		Help: "Monitor API requests refused with a 4xx status."}, func() float64 { return float64(st.Refused.Load()) })
	f.NewCounterFunc(prometheus.CounterOpts{Name: "ntppool_controlplane_publish_writes_total",
		Help: "etcd transactions the publisher committed."}, func() float64 { return float64(a.pub.Writes()) })
	f.NewGaugeFunc(prometheus.GaugeOpts{Name: "ntppool_controlplane_leader",
		Help: "1 while this instance leads (publishes, selects monitors)."}, func() float64 {
		if a.lead.IsLeader() {
			return 1
		}
		return 0
	})
	return reg
}

// serveMetrics serves /metrics on addr until ctx ends ("" : not at all).
func (a *app) serveMetrics(ctx context.Context, addr string) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.newMetrics(), promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("metrics server", "err", err)
		}
	}()
	a.log.Info("metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return nil
}
