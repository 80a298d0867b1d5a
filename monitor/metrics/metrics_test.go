package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

func TestMetricNamesLint(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := New(reg)
	m.Probes.WithLabelValues("ok").Inc()
	m.Batches.WithLabelValues(BatchAccepted).Inc()
	m.WorkWaits.WithLabelValues("clock").Inc()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
	if len(mfs) != 8 {
		t.Errorf("%d metric families, want 8", len(mfs))
	}
}
