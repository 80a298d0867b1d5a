package ntppool

import (
	"cmp"
	"encoding/binary"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"net/netip"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/ntppool-ng/ntppool/record"
)

// Address families, used to index the per-family sets of a zone.
const (
	fam4 = 0 // A records
	fam6 = 1 // AAAA records
)

// subsets is the number of numbered labels (0..3) of every zone.
const subsets = 4

// minSplit is the smallest zone that is split into disjoint numbered
// subsets; smaller zones give every numbered label all their servers.
const minSplit = 8

// server is one entry of an index.
type server struct {
	addr   netip.Addr
	weight int64
}

// set is a group of servers of one family with precomputed cumulative
// weights, so a weighted draw is one binary search. ids are ascending, which
// lets a draw find already chosen servers by binary search too.
type set struct {
	ids []int32
	cum []int64 // cum[i] = weight(ids[0]) + ... + weight(ids[i])
	fam int
	ips [][16]byte // ips[i] is the address of ids[i] (IPv4 in the first 4 bytes), kept here so an answer reads one array
}

// ip returns the address at position i as a read-only slice into the set.
func (s *set) ip(i int, f int) net.IP {
	if f == fam4 {
		return s.ips[i][:4:4]
	}
	return s.ips[i][:]
}

func (s *set) len() int { return len(s.ids) }

func (s *set) total() int64 {
	if len(s.cum) == 0 {
		return 0
	}
	return s.cum[len(s.cum)-1]
}

// weightAt is the weight of the server at position i.
func (s *set) weightAt(i int) int64 {
	if i == 0 {
		return s.cum[0]
	}
	return s.cum[i] - s.cum[i-1]
}

// zoneKind says which tier of the pool a zone is.
type zoneKind uint8

const (
	kindGlobal zoneKind = iota
	kindContinent
	kindCountry
)

// zone is one pool zone: the global set, a continent or a country.
type zone struct {
	label  string // "" for the global zone, else the zone label
	kind   zoneKind
	parent *zone // country -> continent -> global; nil for global
	all    [2]set
	sub    [subsets][2]set
	stats  *zoneStats
	sizes  [2]int // servers per family, counted while building
}

// name is the zone's label as metrics and the debug answer show it.
func (z *zone) name() string {
	if z.label == "" {
		return "@"
	}
	return z.label
}

// index is one immutable generation of the pool data. It is built aside and
// swapped in whole; nothing modifies it after that, so queries read it
// without a lock.
type index struct {
	servers []server
	global  *zone
	zones   map[string]*zone // every country ("gb" too) and continent label
	vendors map[string]record.Vendor
	rev     int64  // etcd revision the data is consistent at
	period  int64  // subset period number the subsets were shuffled for
	serial  uint32 // SOA serial: changes when data or subsets change
	built   time.Time
}

// zoneList returns every country and continent zone once ("gb" is "uk").
func (ix *index) zoneList() []*zone {
	out := make([]*zone, 0, len(ix.zones))
	for label, z := range ix.zones {
		if label != "gb" {
			out = append(out, z)
		}
	}
	return out
}

// periodNumber is the number of the subset period that contains t.
func periodNumber(t time.Time, period time.Duration) int64 {
	if period <= 0 {
		return 0
	}
	return t.UnixNano() / int64(period)
}

// buildIndex builds an index from decoded records. servers may be in any
// order and is not modified; the result depends only on the set of servers,
// the vendors, rev and period, so every DNS server that reads the same etcd
// data builds the same subsets.
func buildIndex(servers []record.Server, vendors []record.Vendor, rev, period int64) *index {
	keys := sortedKeys(servers)
	ix := &index{
		servers: make([]server, len(keys)),
		zones:   make(map[string]*zone, 260),
		vendors: make(map[string]record.Vendor, len(vendors)),
		rev:     rev,
		period:  period,
		// rev and period only grow, so their sum changes whenever either does.
		serial: uint32(rev + period),
		built:  time.Now(),
	}
	ix.global = &zone{kind: kindGlobal}
	for _, cont := range record.Continents {
		ix.zones[cont] = &zone{label: cont, kind: kindContinent, parent: ix.global}
	}
	for _, cc := range record.Countries() {
		ix.zones[cc] = &zone{label: cc, kind: kindCountry, parent: ix.zones[record.Continent(cc)]}
	}
	ix.zones["gb"] = ix.zones["uk"]
	for _, v := range vendors {
		ix.vendors[v.Name] = v
	}

	// Group ids per zone and family, ascending: count first so every group
	// is allocated once at its size.
	zonesOf := func(s *record.Server) [3]*zone {
		out := [3]*zone{ix.global}
		if z := ix.zones[record.CountryZone(s.Country)]; s.Country != "" && z != nil {
			out[1], out[2] = z, z.parent
		}
		return out
	}
	fams := make([]uint8, len(keys))
	for i, k := range keys {
		s := &servers[k.i]
		ip := s.IP.Unmap()
		f := fam4
		if ip.Is6() {
			f = fam6
		}
		fams[i] = uint8(f)
		ix.servers[i] = server{addr: ip, weight: s.Weight}
		for _, z := range zonesOf(s) {
			if z != nil {
				z.sizes[f]++
			}
		}
	}
	touched := make([]*zone, 0, 64)
	for _, z := range append(ix.zoneList(), ix.global) {
		if z.sizes[0]+z.sizes[1] > 0 {
			z.all[0].ids = make([]int32, 0, z.sizes[0])
			z.all[1].ids = make([]int32, 0, z.sizes[1])
			touched = append(touched, z)
		}
	}
	for i, k := range keys {
		f := fams[i]
		for _, z := range zonesOf(&servers[k.i]) {
			if z != nil {
				z.all[f].ids = append(z.all[f].ids, int32(i))
			}
		}
	}
	// Zones are independent from here on: build them on every CPU, the
	// biggest (global, continents) first so they do not finish last.
	slices.SortFunc(touched, func(a, b *zone) int { return cmp.Compare(b.sizes[0]+b.sizes[1], a.sizes[0]+a.sizes[1]) })
	work := make(chan *zone, len(touched))
	for _, z := range touched {
		work <- z
	}
	close(work)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(touched)) {
		wg.Go(func() {
			for z := range work {
				for f := range 2 {
					z.all[f] = ix.newSet(z.all[f].ids, f)
					z.splitSubsets(ix, f, period)
				}
			}
		})
	}
	wg.Wait()
	ix.global.stats = statsFor(ix.global.name())
	for _, z := range ix.zones {
		z.stats = statsFor(z.name())
	}
	// Zones without servers still answer: their sets stay empty.
	return ix
}

// sortKey orders servers by address without touching the records (whose
// strings would make every swap pay write barriers).
type sortKey struct {
	hi, lo uint64
	i      int32
}

// sortedKeys returns servers' positions ordered by address, duplicates
// dropped.
func sortedKeys(servers []record.Server) []sortKey {
	keys := make([]sortKey, len(servers))
	for i, s := range servers {
		b := s.IP.Unmap().As16()
		keys[i] = sortKey{hi: binary.BigEndian.Uint64(b[:8]), lo: binary.BigEndian.Uint64(b[8:]), i: int32(i)}
	}
	slices.SortFunc(keys, func(a, b sortKey) int {
		if a.hi != b.hi {
			return cmp.Compare(a.hi, b.hi)
		}
		return cmp.Compare(a.lo, b.lo)
	})
	return slices.CompactFunc(keys, func(a, b sortKey) bool { return a.hi == b.hi && a.lo == b.lo })
}

// newSet computes the cumulative weights of ids (ascending, family f).
func (ix *index) newSet(ids []int32, f int) set {
	if len(ids) == 0 {
		return set{}
	}
	cum := make([]int64, len(ids))
	ips := make([][16]byte, len(ids))
	var sum int64
	for i, id := range ids {
		sum += ix.servers[id].weight
		cum[i] = sum
		a := ix.servers[id].addr
		if f == fam4 {
			b := a.As4()
			copy(ips[i][:4], b[:])
		} else {
			ips[i] = a.As16()
		}
	}
	return set{ids: ids, cum: cum, ips: ips, fam: f}
}

// splitSubsets fills z.sub[*][f] as the pool does: with n < 8 servers every
// numbered label has all of them; otherwise a shuffle seeded by the zone
// label, the family and the period number deals floor(n/4) disjoint servers
// to each label (the n mod 4 left over are only on the unnumbered label).
func (z *zone) splitSubsets(ix *index, f int, period int64) {
	all := z.all[f]
	n := all.len()
	if n < minSplit {
		for i := range subsets {
			z.sub[i][f] = all
		}
		return
	}
	// Shuffle positions, deal them out, then collect each subset in id
	// order, which keeps it sorted without a sort.
	pos := make([]int32, n)
	for i := range pos {
		pos[i] = int32(i)
	}
	rng := rand.New(rand.NewPCG(subsetSeed(z.label, f, period)))
	rng.Shuffle(n, func(i, j int) { pos[i], pos[j] = pos[j], pos[i] })
	per := n / subsets
	slot := make([]int8, n)
	for i := range slot {
		slot[i] = -1
	}
	for k := range subsets * per {
		slot[pos[k]] = int8(k / per)
	}
	var parts [subsets][]int32
	for i := range parts {
		parts[i] = make([]int32, 0, per)
	}
	for i, id := range all.ids {
		if sl := slot[i]; sl >= 0 {
			parts[sl] = append(parts[sl], id)
		}
	}
	for i := range subsets {
		z.sub[i][f] = ix.newSet(parts[i], f)
	}
}

// subsetSeed derives the shuffle seed from what every DNS server agrees on.
func subsetSeed(label string, f int, period int64) (uint64, uint64) {
	h := fnv.New64a()
	h.Write([]byte(label))
	var b [9]byte
	b[0] = byte(f)
	binary.BigEndian.PutUint64(b[1:], uint64(period))
	h.Write(b[:])
	s := h.Sum64()
	return s, s ^ 0x9e3779b97f4a7c15
}

// setFor returns the set a label of zone z answers for family f: n is the
// subset number or -1 for the unnumbered label. Without aaaaAll only the
// "2" labels carry AAAA records, and those carry every IPv6 server of the zone.
func (z *zone) setFor(f, n int, aaaaAll bool) *set {
	if f == fam6 && !aaaaAll {
		if n != 2 {
			return nil
		}
		return &z.all[fam6]
	}
	if n < 0 {
		return &z.all[f]
	}
	return &z.sub[n][f]
}

// count returns the number of servers of zone z per family.
func (z *zone) count(f int) int { return z.all[f].len() }
