package ntppool

import (
	"bytes"
	"cmp"
	"sync/atomic"
)

// A wtree is a persistent B+tree of servers ordered by rank key, where every
// node knows the count and the total weight of its entries. It answers what
// the query path needs in O(log n): the weight of the first r entries, the
// entry at a given cumulative weight, and the rank of a given server. An
// insert or delete copies only the nodes on one root-to-leaf path, so a
// change costs the same at 1,000 servers as at 100,000 and readers of the
// old root are never disturbed.

// nodeMax is the most entries (leaf) or children (inner node) of a node:
// wide enough for a shallow tree (3 levels at 100,000), narrow enough that a
// path copy is a few kilobytes.
const nodeMax = 32

// entry is one server in a tree: its rank key in the tree's zone, its
// address (IPv4 in the first 4 bytes) and its weight.
type entry struct {
	key uint64
	ip  [16]byte
	w   int64
}

func cmpEntry(a, b *entry) int {
	if c := cmp.Compare(a.key, b.key); c != 0 {
		return c
	}
	return bytes.Compare(a.ip[:], b.ip[:])
}

// node is a leaf (ents) or an inner node (kids). cum holds cumulative
// weights of ents or kids; cnt cumulative entry counts of kids; first the
// smallest entry of each kid, for routing by key.
//
// A node is immutable once the index holding it is published. gen names
// the batch of changes that allocated it: that batch, and only it, may
// change the node in place (nobody else can see it yet).
type node struct {
	gen   uint64
	ents  []entry
	kids  []*node
	first []entry
	cnt   []int
	cum   []int64
}

// treeGen hands out batch generations; 0 belongs to no batch, so bulk-built
// and published nodes are never changed in place.
var treeGen atomic.Uint64

func newGen() uint64 { return treeGen.Add(1) }

func (n *node) leaf() bool { return n.kids == nil }

// count is the number of entries under n.
func (n *node) count() int {
	switch {
	case n == nil:
		return 0
	case n.leaf():
		return len(n.ents)
	}
	return n.cnt[len(n.cnt)-1]
}

// total is the weight of the entries under n.
func (n *node) total() int64 {
	if n == nil || len(n.cum) == 0 {
		return 0
	}
	return n.cum[len(n.cum)-1]
}

func (n *node) min() entry {
	if n.leaf() {
		return n.ents[0]
	}
	return n.first[0]
}

// fix recomputes n's cumulative arrays after its ents or kids changed.
func (n *node) fix() {
	if n.leaf() {
		n.cum = n.cum[:0]
		var s int64
		for i := range n.ents {
			s += n.ents[i].w
			n.cum = append(n.cum, s)
		}
		return
	}
	n.cum, n.cnt, n.first = n.cum[:0], n.cnt[:0], n.first[:0]
	var s int64
	c := 0
	for _, k := range n.kids {
		s += k.total()
		c += k.count()
		n.cum = append(n.cum, s)
		n.cnt = append(n.cnt, c)
		n.first = append(n.first, k.min())
	}
}

// own returns n itself when batch gen allocated it, else a copy with room
// for one more entry or child.
func (n *node) own(gen uint64) *node {
	if n.gen == gen {
		return n
	}
	m := &node{gen: gen, cum: make([]int64, 0, nodeMax+1)}
	if n.leaf() {
		m.ents = append(make([]entry, 0, nodeMax+1), n.ents...)
		return m
	}
	m.kids = append(make([]*node, 0, nodeMax+1), n.kids...)
	m.cnt = make([]int, 0, nodeMax+1)
	m.first = make([]entry, 0, nodeMax+1)
	return m
}

// split moves the upper half of an overfull n into a new node of batch gen.
func (n *node) split(gen uint64) *node {
	m := &node{gen: gen, cum: make([]int64, 0, nodeMax+1)}
	if n.leaf() {
		h := len(n.ents) / 2
		m.ents = append(make([]entry, 0, nodeMax+1), n.ents[h:]...)
		n.ents = n.ents[:h]
	} else {
		h := len(n.kids) / 2
		m.kids = append(make([]*node, 0, nodeMax+1), n.kids[h:]...)
		m.cnt = make([]int, 0, nodeMax+1)
		m.first = make([]entry, 0, nodeMax+1)
		clear(n.kids[h:])
		n.kids = n.kids[:h]
	}
	n.fix()
	m.fix()
	return m
}

// route is the child of inner node n whose range holds e.
func (n *node) route(e *entry) int {
	lo, hi := 1, len(n.first)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cmpEntry(&n.first[m], e) <= 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo - 1
}

// leafPos is the position of the first entry of leaf n not below e.
func (n *node) leafPos(e *entry) int {
	lo, hi := 0, len(n.ents)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cmpEntry(&n.ents[m], e) < 0 {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// treePut returns root with e inserted, or with e's weight replaced when the
// server is there already.
func treePut(root *node, e entry, gen uint64) *node {
	if root == nil {
		n := &node{gen: gen, ents: append(make([]entry, 0, nodeMax+1), e), cum: make([]int64, 0, nodeMax+1)}
		n.fix()
		return n
	}
	n, extra := root.put(&e, gen)
	if extra == nil {
		return n
	}
	r := &node{gen: gen, kids: []*node{n, extra}}
	r.fix()
	return r
}

func (n *node) put(e *entry, gen uint64) (*node, *node) {
	if n.leaf() {
		i := n.leafPos(e)
		m := n.own(gen)
		if i < len(m.ents) && cmpEntry(&m.ents[i], e) == 0 {
			m.ents[i].w = e.w
		} else {
			m.ents = append(m.ents, entry{})
			copy(m.ents[i+1:], m.ents[i:])
			m.ents[i] = *e
		}
		if len(m.ents) > nodeMax {
			return m, m.split(gen)
		}
		m.fix()
		return m, nil
	}
	j := n.route(e)
	c, extra := n.kids[j].put(e, gen)
	m := n.own(gen)
	m.kids[j] = c
	if extra != nil {
		m.kids = append(m.kids, nil)
		copy(m.kids[j+2:], m.kids[j+1:])
		m.kids[j+1] = extra
	}
	if len(m.kids) > nodeMax {
		return m, m.split(gen)
	}
	m.fix()
	return m, nil
}

// treeDelete returns root without e (matched by key and address); absent
// entries leave it as it is. Nodes may stay underfull: keys are hashes, so
// deletes spread evenly, and every period rebuilds the trees anyway.
func treeDelete(root *node, e entry, gen uint64) *node {
	if root == nil {
		return nil
	}
	n, _ := root.del(&e, gen)
	for n != nil && !n.leaf() && len(n.kids) == 1 {
		n = n.kids[0]
	}
	return n
}

// del returns n without e, and whether e was there. (A node of batch gen
// may be changed in place, so "same pointer" does not mean "unchanged".)
func (n *node) del(e *entry, gen uint64) (*node, bool) {
	if n.leaf() {
		i := n.leafPos(e)
		if i == len(n.ents) || cmpEntry(&n.ents[i], e) != 0 {
			return n, false
		}
		if len(n.ents) == 1 {
			return nil, true
		}
		m := n.own(gen)
		m.ents = append(m.ents[:i], m.ents[i+1:]...)
		m.fix()
		return m, true
	}
	j := n.route(e)
	c, found := n.kids[j].del(e, gen)
	if !found {
		return n, false
	}
	if c == nil && len(n.kids) == 1 {
		return nil, true
	}
	m := n.own(gen)
	if c == nil {
		m.kids = append(m.kids[:j], m.kids[j+1:]...)
	} else {
		m.kids[j] = c
	}
	m.fix()
	return m, true
}

// buildTree makes a tree of ents, which are sorted and distinct.
func buildTree(ents []entry) *node {
	if len(ents) == 0 {
		return nil
	}
	var level []*node
	for i := 0; i < len(ents); i += nodeMax {
		n := &node{ents: ents[i:min(i+nodeMax, len(ents)):min(i+nodeMax, len(ents))]}
		n.cum = make([]int64, 0, len(n.ents))
		n.fix()
		level = append(level, n)
	}
	for len(level) > 1 {
		var up []*node
		for i := 0; i < len(level); i += nodeMax {
			kids := level[i:min(i+nodeMax, len(level)):min(i+nodeMax, len(level))]
			n := &node{kids: kids, cum: make([]int64, 0, len(kids)), cnt: make([]int, 0, len(kids)), first: make([]entry, 0, len(kids))}
			n.fix()
			up = append(up, n)
		}
		level = up
	}
	return level[0]
}

// weightBefore is the weight of the first r entries under n.
func (n *node) weightBefore(r int) int64 {
	var acc int64
	for n != nil && r > 0 {
		if n.leaf() {
			return acc + n.cum[min(r, len(n.cum))-1]
		}
		j := searchInts(n.cnt, r)
		if j == len(n.cnt) {
			return acc + n.total()
		}
		if j > 0 {
			acc += n.cum[j-1]
			r -= n.cnt[j-1]
		}
		n = n.kids[j]
	}
	return acc
}

// searchInts is the first i with a[i] > r.
func searchInts(a []int, r int) int {
	lo, hi := 0, len(a)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if a[m] > r {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// searchCum is the first i with a[i] > u.
func searchCum(a []int64, u int64) int {
	lo, hi := 0, len(a)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if a[m] > u {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// locate returns the entry whose weight interval holds u (0 <= u < total)
// and where that interval starts.
func (n *node) locate(u int64) (*entry, int64) {
	var start int64
	for !n.leaf() {
		j := searchCum(n.cum, u)
		if j > 0 {
			start += n.cum[j-1]
			u -= n.cum[j-1]
		}
		n = n.kids[j]
	}
	i := min(searchCum(n.cum, u), len(n.ents)-1)
	e := &n.ents[i]
	return e, start + n.cum[i] - e.w
}

// find returns the rank of e (by key and address) under n, where its weight
// interval starts, and its weight.
func (n *node) find(e *entry) (rank int, start, w int64, ok bool) {
	if n == nil {
		return 0, 0, 0, false
	}
	for !n.leaf() {
		j := n.route(e)
		if j > 0 {
			rank += n.cnt[j-1]
			start += n.cum[j-1]
		}
		n = n.kids[j]
	}
	i := n.leafPos(e)
	if i == len(n.ents) || cmpEntry(&n.ents[i], e) != 0 {
		return 0, 0, 0, false
	}
	w = n.ents[i].w
	return rank + i, start + n.cum[i] - w, w, true
}

// each calls f for every entry under n in order.
func (n *node) each(f func(*entry)) {
	if n == nil {
		return
	}
	if n.leaf() {
		for i := range n.ents {
			f(&n.ents[i])
		}
		return
	}
	for _, k := range n.kids {
		k.each(f)
	}
}
