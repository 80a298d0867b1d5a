package ntppool

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"slices"
	"testing"

	"github.com/coredns/coredns/plugin/pkg/dnstest"
	"github.com/coredns/coredns/plugin/test"
	"github.com/miekg/dns"

	"github.com/ntppool-ng/ntppool/internal/poolgen"
	"github.com/ntppool-ng/ntppool/record"
)

// TestTreeMatchesModel: after every insert, weight change and delete the
// tree answers count, prefix weights, locate and find as a sorted slice
// does, and every earlier root still answers as it did (path copying).
func TestTreeMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	var root *node
	var model []entry
	type snap struct {
		root  *node
		model []entry
	}
	var snaps []snap
	var gen uint64
	for step := range 3000 {
		// Ten changes per batch: within one the nodes it made change in place.
		if step%10 == 0 {
			gen = newGen()
		}
		var e entry
		e.ip[0], e.ip[1] = byte(rng.IntN(40)), byte(rng.IntN(40))
		e.key = rankKey(7, &e.ip)
		e.w = 1 + rng.Int64N(1000)
		i, found := slices.BinarySearchFunc(model, e, func(a, b entry) int { return cmpEntry(&a, &b) })
		if found && rng.IntN(2) == 0 {
			root = treeDelete(root, e, gen)
			model = slices.Delete(slices.Clone(model), i, i+1)
		} else {
			root = treePut(root, e, gen)
			if found {
				model = slices.Clone(model)
				model[i].w = e.w
			} else {
				model = slices.Insert(slices.Clone(model), i, e)
			}
		}
		if step%100 == 99 {
			snaps = append(snaps, snap{root, model})
		}
		if step%37 == 0 {
			checkTree(t, root, model)
		}
	}
	checkTree(t, root, model)
	for _, s := range snaps {
		checkTree(t, s.root, s.model)
	}
	if len(model) < 200 {
		t.Fatalf("only %d entries: the test did not grow a deep tree", len(model))
	}
}

func checkTree(t *testing.T, root *node, model []entry) {
	t.Helper()
	if root.count() != len(model) {
		t.Fatalf("count %d, want %d", root.count(), len(model))
	}
	var sum int64
	for r, e := range model {
		if got := root.weightBefore(r); got != sum {
			t.Fatalf("weightBefore(%d) = %d, want %d", r, got, sum)
		}
		rank, start, w, ok := root.find(&e)
		if !ok || rank != r || start != sum || w != e.w {
			t.Fatalf("find(%d) = %d %d %d %v, want %d %d %d", r, rank, start, w, ok, r, sum, e.w)
		}
		for _, u := range []int64{sum, sum + e.w - 1} {
			got, gstart := root.locate(u)
			if cmpEntry(got, &e) != 0 || gstart != sum {
				t.Fatalf("locate(%d) gave rank of another entry", u)
			}
		}
		sum += e.w
	}
	if root.total() != sum || root.weightBefore(len(model)) != sum {
		t.Fatalf("total %d, want %d", root.total(), sum)
	}
	var absent entry
	absent.ip[15] = 1
	if _, _, _, ok := root.find(&absent); ok {
		t.Fatal("found an absent entry")
	}
}

// randomChange changes, adds or removes one server of state (a map by
// address) and returns the change.
func randomChange(rng *rand.Rand, state map[netip.Addr]record.Server, keys *[]netip.Addr, next *int) serverChange {
	switch rng.IntN(3) {
	case 0: // add
		*next++
		s := record.Server{V: 1, IP: netip.AddrFrom4([4]byte{198, 18, byte(*next >> 8), byte(*next)}), Weight: 1 + rng.Int64N(5000)}
		if rng.IntN(4) > 0 {
			s.Country = []string{"de", "us", "aq", "jp", "uk"}[rng.IntN(5)]
		}
		if rng.IntN(3) == 0 {
			s.IP = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0xff, 15: byte(*next), 14: byte(*next >> 8)})
		}
		state[s.IP] = s
		*keys = append(*keys, s.IP)
		return serverChange{new: &s}
	case 1: // remove
		i := rng.IntN(len(*keys))
		ip := (*keys)[i]
		*keys = slices.Delete(*keys, i, i+1)
		old := state[ip]
		delete(state, ip)
		return serverChange{old: &old}
	}
	ip := (*keys)[rng.IntN(len(*keys))]
	old := state[ip]
	s := old
	s.Weight = 1 + rng.Int64N(5000)
	if rng.IntN(4) == 0 {
		s.Country = "fr"
	}
	state[ip] = s
	return serverChange{old: &old, new: &s}
}

// TestUpdateMatchesBuild: an index kept up to date change by change (in
// batches of several sizes) deals exactly the subsets a fresh build of the
// same data deals, so an instance that has followed the watch for hours
// and one that has just started answer alike; and the indexes it replaced
// are left as they were.
func TestUpdateMatchesBuild(t *testing.T) {
	servers := poolgen.Generate(poolgen.Options{N: 3000, Seed: 5})
	state := map[netip.Addr]record.Server{}
	var keys []netip.Addr
	for _, s := range servers {
		state[s.IP] = s
		keys = append(keys, s.IP)
	}
	rng := rand.New(rand.NewPCG(2, 3))
	next := 0
	ix := buildIndex(servers, nil, 1, 7)
	first, firstIPs := ix, allSubsets(ix)
	for round, batch := range []int{1, 1, 5, 50, 400, 1, 2} {
		var changes []serverChange
		for range batch {
			changes = append(changes, randomChange(rng, state, &keys, &next))
		}
		ix, _ = ix.update(changes, nil, int64(round+2))
		fresh := buildIndex(slices.Collect(mapValues(state)), nil, int64(round+2), 7)
		if got, want := allSubsets(ix), allSubsets(fresh); !maps2Equal(got, want) {
			for k := range want {
				if !slices.Equal(got[k], want[k]) {
					t.Logf("%s: %d vs %d", k, len(got[k]), len(want[k]))
				}
			}
			t.Fatalf("round %d (%d changes): updated index differs from a fresh build", round, batch)
		}
	}
	if !maps2Equal(allSubsets(first), firstIPs) {
		t.Fatal("updates modified a published index")
	}
}

func mapValues[K comparable, V any](m map[K]V) func(func(V) bool) {
	return func(yield func(V) bool) {
		for _, v := range m {
			if !yield(v) {
				return
			}
		}
	}
}

// allSubsets lists every label's servers of every zone and family.
func allSubsets(ix *index) map[string][]string {
	out := map[string][]string{}
	for _, z := range poolZones().all {
		for f := range 2 {
			out[fmt.Sprintf("%s/%d/all", z.name(), f)] = ipsOf(ix, ix.setFor(z, f, -1, true))
			for n := range subsets {
				out[fmt.Sprintf("%s/%d/%d", z.name(), f, n)] = ipsOf(ix, subsetOf(ix, z, n, f))
			}
		}
	}
	return out
}

func maps2Equal(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

// subsetMoves counts the servers other than skip whose numbered label (or
// none) in zone z differs between a and b.
func subsetMoves(a, b *index, z *zone, f int, skip netip.Addr) int {
	where := func(ix *index) map[string]int {
		m := map[string]int{}
		for _, ip := range ipsOf(ix, ix.setFor(z, f, -1, true)) {
			m[ip] = -1
		}
		if ix.count(z, f) < minSplit {
			return m
		}
		for n := range subsets {
			for _, ip := range ipsOf(ix, subsetOf(ix, z, n, f)) {
				m[ip] = n
			}
		}
		return m
	}
	wa, wb := where(a), where(b)
	moves := 0
	for ip, n := range wa {
		if m, ok := wb[ip]; ok && m != n && ip != skip.String() {
			moves++
		}
	}
	return moves
}

// maxChurn bounds the servers that change numbered label when one server
// is added or removed: one at each of the four subset boundaries, and when
// floor(n/4) changes the boundaries themselves shift by 1, 2, 3 and 4.
const maxChurn = 14

// churn adds and removes servers one at a time in a zone of about n
// servers and returns the mean and the most servers moved per change.
func churn(n, changes int) (mean float64, most int) {
	var servers []record.Server
	for i := range n {
		servers = append(servers, record.Server{V: 1, IP: netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), Weight: 1000, Country: "de"})
	}
	ix := buildIndex(servers, nil, 1, 3)
	de := ix.zones["de"]
	rng := rand.New(rand.NewPCG(4, 5))
	total := 0
	for i := range changes {
		var c serverChange
		var ip netip.Addr
		if i%2 == 0 {
			s := record.Server{V: 1, IP: netip.AddrFrom4([4]byte{11, 0, byte(i >> 8), byte(i)}), Weight: 1000, Country: "de"}
			c.new, ip = &s, s.IP
			servers = append(servers, s)
		} else {
			k := rng.IntN(len(servers))
			s := servers[k]
			servers = slices.Delete(servers, k, k+1)
			c.old, ip = &s, s.IP
		}
		nix, _ := ix.update([]serverChange{c}, nil, int64(i+2))
		m := subsetMoves(ix, nix, de, fam4, ip)
		total += m
		most = max(most, m)
		ix = nix
	}
	return float64(total) / float64(changes), most
}

// TestSubsetChurn: adding or removing one server moves at most maxChurn
// other servers between numbered subsets.
func TestSubsetChurn(t *testing.T) {
	for _, n := range []int{7, 8, 11, 50, 999, 1000} {
		mean, most := churn(n, 200)
		t.Logf("zone of %d: %.2f servers moved per change on average, %d at most", n, mean, most)
		if most > maxChurn {
			t.Errorf("zone of %d: one change moved %d servers between subsets, want at most %d", n, most, maxChurn)
		}
	}
}

// BenchmarkSubsetChurn reports the servers moved between numbered subsets
// per added or removed server (mean and most), in zones whose floor(n/4)
// stays (1000) and changes (999) with the change.
func BenchmarkSubsetChurn(b *testing.B) {
	for _, n := range []int{999, 1000, 10000} {
		b.Run(fmt.Sprintf("servers=%d", n), func(b *testing.B) {
			var mean float64
			var most int
			for b.Loop() {
				mean, most = churn(n, 100)
			}
			b.ReportMetric(mean, "moved/change")
			b.ReportMetric(float64(most), "max-moved")
		})
	}
}

// BenchmarkIndexUpdate is the cost of one server change (a weight change,
// an addition or a removal in turn) to an index of 1,000 to 100,000
// servers: a new index ready to swap in.
func BenchmarkIndexUpdate(b *testing.B) {
	for _, n := range []int{1000, 10000, 100000} {
		b.Run(fmt.Sprintf("servers=%d", n), func(b *testing.B) {
			servers := poolgen.Generate(poolgen.Options{N: n, Seed: 1})
			ix := buildIndex(servers, nil, 1, 1)
			rng := rand.New(rand.NewPCG(1, 2))
			extra := record.Server{V: 1, IP: netip.MustParseAddr("198.18.0.1"), Weight: 1000, Country: "de"}
			in := false
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				var c serverChange
				switch i % 3 {
				case 0:
					s := servers[rng.IntN(len(servers))]
					w := s
					w.Weight = 1 + rng.Int64N(5000)
					c = serverChange{old: &s, new: &w}
				case 1, 2:
					if in {
						c.old = &extra
					} else {
						c.new = &extra
					}
					in = !in
				}
				i++
				ix, _ = ix.update([]serverChange{c}, nil, int64(i))
			}
		})
	}
}

// TestQueriesDuringUpdates: queries read indexes while batches of changes
// make and publish new ones (run with -race: no index is written after it
// is published), and every answer is whole.
func TestQueriesDuringUpdates(t *testing.T) {
	servers := poolgen.Generate(poolgen.Options{N: 2000, Seed: 8})
	state := map[netip.Addr]record.Server{}
	var keys []netip.Addr
	for _, s := range servers {
		state[s.IP] = s
		keys = append(keys, s.IP)
	}
	p := newStaticPool(t, testConfig(), servers, nil)
	stop := make(chan struct{})
	done := make(chan error, 2)
	for range 2 {
		go func() {
			for {
				select {
				case <-stop:
					done <- nil
					return
				default:
				}
				rec := dnstest.NewRecorder(&test.ResponseWriter{RemoteIP: clientUK})
				if _, err := p.ServeDNS(context.Background(), rec, ecsMsg("1.de.pool.ntp.test.", dns.TypeA, "")); err != nil {
					done <- err
					return
				}
				if rec.Msg == nil || len(rec.Msg.Answer) != 4 {
					done <- fmt.Errorf("1.de: answer %v", rec.Msg)
					return
				}
			}
		}()
	}
	rng := rand.New(rand.NewPCG(9, 9))
	next := 0
	for round := range 200 {
		var changes []serverChange
		for range 1 + round%7 {
			changes = append(changes, randomChange(rng, state, &keys, &next))
		}
		ix, touched := p.idx.Load().update(changes, nil, int64(round+100))
		p.publish(ix, touched)
	}
	close(stop)
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
