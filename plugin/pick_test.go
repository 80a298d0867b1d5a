package ntppool

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/ntppool-ng/ntppool/record"
)

// weightedIndex has 10 servers in one zone with weights 1000..10000.
func weightedIndex() *index {
	var servers []record.Server
	for i := 1; i <= 10; i++ {
		servers = append(servers, srv(fmt.Sprintf("192.0.2.%d", i), int64(1000*i), "de"))
	}
	return buildIndex(servers, nil, 1, 1)
}

// serverNum is i-1 for the test server 192.0.2.i.
func serverNum(e *entry) int { return int(e.ip[3]) - 1 }

// chiSquare returns the statistic of observed counts against expected
// weights (scaled to the same total).
func chiSquare(observed []int, weights []float64) float64 {
	var n, w float64
	for i := range observed {
		n += float64(observed[i])
		w += weights[i]
	}
	var x2 float64
	for i := range observed {
		e := n * weights[i] / w
		d := float64(observed[i]) - e
		x2 += d * d / e
	}
	return x2
}

// 27.88 is the 0.999 quantile of chi-square with 9 degrees of freedom.
const chi2Crit9 = 27.88

// TestDrawFollowsWeights: a single draw picks each server in proportion to
// its weight.
func TestDrawFollowsWeights(t *testing.T) {
	ix := weightedIndex()
	s := ix.setFor(ix.zones["de"], fam4, -1, false)
	rng := rand.New(rand.NewPCG(3, 4))
	counts := make([]int, 10)
	for range 200000 {
		var pk picked
		s.draw(rng, 1, &pk)
		counts[serverNum(pk.ents[0])]++
	}
	weights := make([]float64, 10)
	for i := range weights {
		weights[i] = float64(1000 * (i + 1))
	}
	if x2 := chiSquare(counts, weights); x2 > chi2Crit9 {
		t.Errorf("chi-square %.1f > %.1f: counts %v do not follow weights", x2, chi2Crit9, counts)
	}
}

// TestDrawExcludesChosen: with a server already chosen, the next draw never
// repeats it and splits the rest in proportion to their weights.
func TestDrawExcludesChosen(t *testing.T) {
	ix := weightedIndex()
	s := ix.setFor(ix.zones["de"], fam4, -1, false)
	rng := rand.New(rand.NewPCG(5, 6))
	const chosen = 6 // weight 7000
	ip, _ := addrBytes(netip.MustParseAddr("192.0.2.7"))
	counts := make([]int, 10)
	for range 200000 {
		pk := picked{n: 1}
		pk.ents[0] = &entry{ip: ip}
		s.draw(rng, 2, &pk)
		if pk.n != 2 || serverNum(pk.ents[1]) == chosen {
			t.Fatalf("draw gave %v", pk.ips[:pk.n])
		}
		counts[serverNum(pk.ents[1])]++
	}
	weights := make([]float64, 10)
	for i := range weights {
		weights[i] = float64(1000 * (i + 1))
	}
	counts = slices.Delete(counts, chosen, chosen+1)
	weights = slices.Delete(weights, chosen, chosen+1)
	// 8 degrees of freedom: 0.999 quantile 26.12.
	if x2 := chiSquare(counts, weights); x2 > 26.12 {
		t.Errorf("chi-square %.1f: counts %v do not follow weights", x2, counts)
	}
}

// TestDrawWithoutReplacement: k draws give k distinct servers, or all of
// them when the set is smaller, whatever the weights.
func TestDrawWithoutReplacement(t *testing.T) {
	servers := []record.Server{srv("192.0.2.1", record.MaxWeight, "de"), srv("192.0.2.2", 1, "de"), srv("192.0.2.3", 1, "de")}
	ix := buildIndex(servers, nil, 1, 1)
	s := ix.setFor(ix.zones["de"], fam4, -1, false)
	rng := rand.New(rand.NewPCG(7, 8))
	for range 1000 {
		var pk picked
		s.draw(rng, 4, &pk)
		var got []int
		for _, e := range pk.ents[:pk.n] {
			got = append(got, serverNum(e))
		}
		slices.Sort(got)
		if !slices.Equal(got, []int{0, 1, 2}) {
			t.Fatalf("draw gave %v, want all three once", got)
		}
	}
}

// TestAnswersDoNotShareSlices: every reply owns its record slice and
// records; the index's server list is never handed out or modified.
func TestAnswersDoNotShareSlices(t *testing.T) {
	p := newStaticPool(t, testConfig(), testServers(), nil)
	ix := p.idx.Load()
	before := ipsOf(ix, ix.setFor(ix.zones["de"], fam4, -1, false))
	m1 := serve(t, p, ecsMsg("de.pool.ntp.test.", 1, ""), clientUK).Msg
	m2 := serve(t, p, ecsMsg("de.pool.ntp.test.", 1, ""), clientUK).Msg
	m1.Answer[0].Header().Ttl = 1
	m1.Answer[0] = nil
	if m2.Answer[0] == nil || m2.Answer[0].Header().Ttl != 150 {
		t.Error("changing one reply changed another")
	}
	if !slices.Equal(before, ipsOf(ix, ix.setFor(ix.zones["de"], fam4, -1, false))) {
		t.Error("answering modified the index")
	}
}
