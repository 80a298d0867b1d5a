package ntppool

import (
	"cmp"
	"encoding/binary"
	"hash/fnv"
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

// zoneKind says which tier of the pool a zone is.
type zoneKind uint8

const (
	kindGlobal zoneKind = iota
	kindContinent
	kindCountry
)

// zone is one pool zone: the global set, a continent or a country. It only
// describes the zone and is shared by every index; an index holds the
// zone's servers in sets[num].
type zone struct {
	label  string // "" for the global zone, else the zone label
	kind   zoneKind
	parent *zone // country -> continent -> global; nil for global
	num    int   // position in index.sets
	stats  *zoneStats
}

// name is the zone's label as metrics and the debug answer show it.
func (z *zone) name() string {
	if z.label == "" {
		return "@"
	}
	return z.label
}

// zoneTable is the fixed list of pool zones.
type zoneTable struct {
	global  *zone
	byLabel map[string]*zone // every country ("gb" too) and continent label
	all     []*zone          // by num, the global zone first
}

var poolZones = sync.OnceValue(func() *zoneTable {
	t := &zoneTable{byLabel: make(map[string]*zone, 260)}
	add := func(label string, kind zoneKind, parent *zone) *zone {
		z := &zone{label: label, kind: kind, parent: parent, num: len(t.all)}
		z.stats = statsFor(z.name())
		t.all = append(t.all, z)
		if label != "" {
			t.byLabel[label] = z
		}
		return z
	}
	t.global = add("", kindGlobal, nil)
	for _, cont := range record.Continents {
		add(cont, kindContinent, t.global)
	}
	for _, cc := range record.Countries() {
		add(cc, kindCountry, t.byLabel[record.Continent(cc)])
	}
	t.byLabel["gb"] = t.byLabel["uk"]
	return t
})

// zonesOf returns the zones a server is in: global, then its country and
// continent when known.
func (t *zoneTable) zonesOf(country string) [3]*zone {
	out := [3]*zone{t.global}
	if country == "" {
		return out
	}
	if z := t.byLabel[record.CountryZone(country)]; z != nil {
		out[1], out[2] = z, z.parent
	}
	return out
}

// set is the servers one label answers from, for one family: the ranks
// lo..hi-1 of a zone's tree, whose weights start at base and add up to sum.
type set struct {
	root   *node
	seed   uint64 // the tree's rank key seed, to find servers chosen elsewhere
	fam    int
	lo, hi int
	base   int64
	sum    int64
}

func (s *set) len() int { return s.hi - s.lo }

func (s *set) total() int64 { return s.sum }

// ip returns the address of e as a read-only slice into the index.
func ipOf(e *entry, f int) net.IP {
	if f == fam4 {
		return e.ip[:4:4]
	}
	return e.ip[:]
}

// famSets is one family of one zone: every server, and the numbered subsets.
type famSets struct {
	all set
	sub [subsets]set
}

// newFamSets deals the numbered subsets of tree root as the pool does: with
// n < 8 servers every numbered label has all of them; otherwise label i gets
// the servers of ranks i*floor(n/4) up to (i+1)*floor(n/4) in rank key order
// (the n mod 4 of the highest ranks are only on the unnumbered label).
//
// Rank keys are a hash of the zone, family, period and address, so the deal
// depends only on the data and the period; and one server coming or going
// shifts the ranks above it by one, which moves only the servers at the
// four subset boundaries (and, when floor(n/4) changes, a few more).
func newFamSets(root *node, seed uint64, f int) famSets {
	n := root.count()
	fs := famSets{all: set{root: root, seed: seed, fam: f, hi: n, sum: root.total()}}
	if n < minSplit {
		for i := range subsets {
			fs.sub[i] = fs.all
		}
		return fs
	}
	per := n / subsets
	lo, base := 0, int64(0)
	for i := range subsets {
		hi := lo + per
		end := root.weightBefore(hi)
		fs.sub[i] = set{root: root, seed: seed, fam: f, lo: lo, hi: hi, base: base, sum: end - base}
		lo, base = hi, end
	}
	return fs
}

// zoneSets is both families of one zone.
type zoneSets [2]famSets

// index is one immutable generation of the pool data. It is made aside and
// swapped in whole; nothing modifies it after that, so queries read it
// without a lock. A change makes a new index that shares every zone it does
// not touch with the old one.
type index struct {
	zones   map[string]*zone // every country ("gb" too) and continent label
	global  *zone
	sets    []*zoneSets // by zone num
	vendors map[string]record.Vendor
	rev     int64  // etcd revision the data is consistent at
	period  int64  // subset period number the rank keys are seeded with
	serial  uint32 // SOA serial: changes when data or subsets change
	built   time.Time
}

// periodNumber is the number of the subset period that contains t.
func periodNumber(t time.Time, period time.Duration) int64 {
	if period <= 0 {
		return 0
	}
	return t.UnixNano() / int64(period)
}

// rankSeed derives a zone's rank key seed from what every DNS server agrees
// on: the zone label, the family and the period number.
func rankSeed(label string, f int, period int64) uint64 {
	h := fnv.New64a()
	h.Write([]byte(label))
	var b [9]byte
	b[0] = byte(f)
	binary.BigEndian.PutUint64(b[1:], uint64(period))
	h.Write(b[:])
	return h.Sum64()
}

// rankKey places a server in a zone's order: a keyed hash of its address.
func rankKey(seed uint64, ip *[16]byte) uint64 {
	hi := binary.BigEndian.Uint64(ip[:8])
	lo := binary.BigEndian.Uint64(ip[8:])
	return mix64(mix64(seed^hi) ^ lo)
}

// mix64 is the splitmix64 finaliser: every input bit flips about half of
// the output bits.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// addrBytes returns a server address in the index's form and its family.
func addrBytes(a netip.Addr) ([16]byte, int) {
	a = a.Unmap()
	if a.Is4() {
		var b [16]byte
		v := a.As4()
		copy(b[:4], v[:])
		return b, fam4
	}
	return a.As16(), fam6
}

// buildIndex builds an index from decoded records. servers may be in any
// order and is not modified; the result depends only on the set of servers,
// the vendors, rev and period, so every DNS server that reads the same etcd
// data builds the same subsets.
func buildIndex(servers []record.Server, vendors []record.Vendor, rev, period int64) *index {
	zt := poolZones()
	ix := newIndex(zt, rev, period)
	for _, v := range vendors {
		ix.vendors[v.Name] = v
	}
	seeds := make([][2]uint64, len(zt.all))
	for _, z := range zt.all {
		seeds[z.num] = [2]uint64{rankSeed(z.label, fam4, period), rankSeed(z.label, fam6, period)}
	}
	// Entries per zone and family, counted first so each list is allocated
	// once at its size.
	sizes := make([][2]int, len(zt.all))
	for i := range servers {
		_, f := addrBytes(servers[i].IP)
		for _, z := range zt.zonesOf(servers[i].Country) {
			if z != nil {
				sizes[z.num][f]++
			}
		}
	}
	lists := make([][2][]entry, len(zt.all))
	for num, n := range sizes {
		for f := range 2 {
			if n[f] > 0 {
				lists[num][f] = make([]entry, 0, n[f])
			}
		}
	}
	for i := range servers {
		s := &servers[i]
		ip, f := addrBytes(s.IP)
		for _, z := range zt.zonesOf(s.Country) {
			if z != nil {
				lists[z.num][f] = append(lists[z.num][f], entry{key: rankKey(seeds[z.num][f], &ip), ip: ip, w: s.Weight})
			}
		}
	}
	// Zones are independent from here on: build them on every CPU, the
	// biggest (global, continents) first so they do not finish last.
	order := slices.Clone(zt.all)
	slices.SortFunc(order, func(a, b *zone) int {
		return cmp.Compare(sizes[b.num][0]+sizes[b.num][1], sizes[a.num][0]+sizes[a.num][1])
	})
	work := make(chan *zone, len(order))
	for _, z := range order {
		work <- z
	}
	close(work)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(order)) {
		wg.Go(func() {
			for z := range work {
				zs := new(zoneSets)
				for f := range 2 {
					ents := lists[z.num][f]
					slices.SortFunc(ents, func(a, b entry) int { return cmpEntry(&a, &b) })
					// The same address twice is one server.
					ents = slices.CompactFunc(ents, func(a, b entry) bool { return a.key == b.key && a.ip == b.ip })
					zs[f] = newFamSets(buildTree(ents), seeds[z.num][f], f)
				}
				ix.sets[z.num] = zs
			}
		})
	}
	wg.Wait()
	return ix
}

func newIndex(zt *zoneTable, rev, period int64) *index {
	return &index{
		zones:   zt.byLabel,
		global:  zt.global,
		sets:    make([]*zoneSets, len(zt.all)),
		vendors: map[string]record.Vendor{},
		rev:     rev,
		period:  period,
		// rev and period only grow, so their sum changes whenever either does.
		serial: uint32(rev + period),
		built:  time.Now(),
	}
}

// serverChange is one server record before and after a change; nil when
// absent (an addition has no old, a deletion no new).
type serverChange struct {
	old, new *record.Server
}

// update returns a new index with changes applied in order, vendors
// replacing the vendor list when not nil, at revision rev; and the zones
// it touched. Only the zones a changed server is or was in are copied, and
// in them only the tree paths to the changed servers: the cost follows the
// number of changes, not the size of the pool. ix itself is not modified.
func (ix *index) update(changes []serverChange, vendors map[string]record.Vendor, rev int64) (*index, []*zone) {
	zt := poolZones()
	nix := *ix
	nix.sets = slices.Clone(ix.sets)
	nix.rev = rev
	nix.serial = uint32(rev + ix.period)
	nix.built = time.Now()
	if vendors != nil {
		nix.vendors = vendors
	}
	gen := newGen()
	var touched []*zone
	fresh := make([]bool, len(nix.sets))
	roots := func(z *zone) *zoneSets {
		if !fresh[z.num] {
			cp := *ix.sets[z.num]
			nix.sets[z.num] = &cp
			fresh[z.num] = true
			touched = append(touched, z)
		}
		return nix.sets[z.num]
	}
	for _, c := range changes {
		if c.old != nil {
			ip, f := addrBytes(c.old.IP)
			for _, z := range zt.zonesOf(c.old.Country) {
				if z != nil {
					fs := &roots(z)[f]
					fs.all.root = treeDelete(fs.all.root, entry{key: rankKey(fs.all.seed, &ip), ip: ip}, gen)
				}
			}
		}
		if c.new != nil {
			ip, f := addrBytes(c.new.IP)
			for _, z := range zt.zonesOf(c.new.Country) {
				if z != nil {
					fs := &roots(z)[f]
					fs.all.root = treePut(fs.all.root, entry{key: rankKey(fs.all.seed, &ip), ip: ip, w: c.new.Weight}, gen)
				}
			}
		}
	}
	for _, z := range touched {
		zs := nix.sets[z.num]
		for f := range 2 {
			zs[f] = newFamSets(zs[f].all.root, zs[f].all.seed, f)
		}
	}
	return &nix, touched
}

// setFor returns the set a label of zone z answers for family f: n is the
// subset number or -1 for the unnumbered label. Without aaaaAll only the
// "2" labels carry AAAA records, and those carry every IPv6 server of the zone.
func (ix *index) setFor(z *zone, f, n int, aaaaAll bool) *set {
	fs := &ix.sets[z.num][f]
	if f == fam6 && !aaaaAll {
		if n != 2 {
			return nil
		}
		return &fs.all
	}
	if n < 0 {
		return &fs.all
	}
	return &fs.sub[n]
}

// count returns the number of servers of zone z per family.
func (ix *index) count(z *zone, f int) int { return ix.sets[z.num][f].all.len() }
