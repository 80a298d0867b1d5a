package ntppool

import (
	"math/rand/v2"
	"net"
)

// randSource is the randomness a draw needs. Production uses math/rand/v2's
// goroutine-safe global source; tests pass a seeded *rand.Rand.
type randSource interface {
	Int64N(n int64) int64
}

// globalRand draws from math/rand/v2's top-level functions, which are safe
// for concurrent use and need no lock.
type globalRand struct{}

func (globalRand) Int64N(n int64) int64 { return rand.Int64N(n) } // #nosec G404 -- load spreading, not security

// maxAnswer bounds the records per answer, so a draw keeps its state on the
// stack.
const maxAnswer = 16

// picked holds the servers chosen for one answer, in the order drawn, and
// their addresses.
type picked struct {
	ids [maxAnswer]int32
	ips [maxAnswer]net.IP
	n   int
}

func (p *picked) has(id int32) bool {
	for _, x := range p.ids[:p.n] {
		if x == id {
			return true
		}
	}
	return false
}

// draw adds servers of s to p until p holds k or s has no unchosen server
// left. It is weighted random sampling without replacement: servers already
// in p (drawn from this or an earlier set) are cut out of the cumulative
// weight line, so every draw is one random number and one binary search,
// with no rejection and no copy of the set.
func (s *set) draw(rng randSource, k int, p *picked) {
	if s == nil || s.len() == 0 || p.n >= k {
		return
	}
	// Positions in s of servers already chosen, ascending, and their weight.
	var excl [maxAnswer]int
	ne := 0
	var exclW int64
	for _, id := range p.ids[:p.n] {
		if pos, ok := s.find(id); ok {
			excl[ne] = pos
			ne++
			exclW += s.weightAt(pos)
		}
	}
	sortInts(excl[:ne])
	left := s.len() - ne
	total := s.total() - exclW
	for p.n < k && left > 0 && total > 0 {
		u := rng.Int64N(total)
		// Map u from the shortened line back onto the full one by stepping
		// over every excluded interval that starts at or before it.
		for _, pos := range excl[:ne] {
			start := s.cum[pos] - s.weightAt(pos)
			if start > u {
				break
			}
			u += s.weightAt(pos)
		}
		pos := s.locate(u)
		p.ids[p.n] = s.ids[pos]
		p.ips[p.n] = s.ip(pos, s.fam)
		p.n++
		w := s.weightAt(pos)
		total -= w
		left--
		excl[ne] = pos
		ne++
		sortInts(excl[:ne])
	}
}

// locate returns the position of the first cumulative weight above u.
func (s *set) locate(u int64) int {
	lo, hi := 0, len(s.cum)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.cum[m] > u {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// find returns the position of server id in s.
func (s *set) find(id int32) (int, bool) {
	lo, hi := 0, len(s.ids)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if s.ids[m] >= id {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo, lo < len(s.ids) && s.ids[lo] == id
}

// sortInts is an insertion sort: the slices here hold at most maxAnswer
// elements and are nearly sorted.
func sortInts(a []int) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j] < a[j-1]; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
