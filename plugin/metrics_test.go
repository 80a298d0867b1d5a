package ntppool

import (
	"strings"
	"testing"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestMetricsLintAndCount(t *testing.T) {
	p := newStaticPool(t, testConfig(), testServers(), nil)
	before := testutil.ToFloat64(answersTotal.WithLabelValues("", "europe", levelContinent))
	serve(t, p, ecsMsg("pool.ntp.test.", dns.TypeA, ""), clientSE)
	serve(t, p, ecsMsg("pool.ntp.test.", dns.TypeA, ""), clientSE)
	if got := testutil.ToFloat64(answersTotal.WithLabelValues("", "europe", levelContinent)) - before; got != 2 {
		t.Errorf("europe continent answers grew by %v, want 2", got)
	}
	if got := testutil.ToFloat64(serversGauge.WithLabelValues("de", "ipv4")); got != 10 {
		t.Errorf("servers{de,ipv4} = %v, want 10", got)
	}
	problems, err := testutil.GatherAndLint(prometheus.DefaultGatherer)
	if err != nil {
		t.Fatal(err)
	}
	for _, pr := range problems {
		if strings.HasPrefix(pr.Metric, "coredns_ntppool_") {
			t.Errorf("metric %s: %s", pr.Metric, pr.Text)
		}
	}
}
