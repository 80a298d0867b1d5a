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
	ents [maxAnswer]*entry
	ips  [maxAnswer]net.IP
	n    int
}

// span is a server's weight interval in a set, relative to the set's start.
type span struct{ start, w int64 }

// draw adds servers of s to p until p holds k or s has no unchosen server
// left. It is weighted random sampling without replacement: servers already
// in p (drawn from this or an earlier set) are cut out of the cumulative
// weight line, so every draw is one random number and one tree descent,
// with no rejection and no copy of the set.
func (s *set) draw(rng randSource, k int, p *picked) {
	if s == nil || s.len() == 0 || p.n >= k {
		return
	}
	// Weight intervals of servers already chosen, ascending.
	var excl [maxAnswer]span
	ne := 0
	var exclW int64
	for _, e := range p.ents[:p.n] {
		q := entry{key: rankKey(s.seed, &e.ip), ip: e.ip}
		if rank, start, w, ok := s.root.find(&q); ok && rank >= s.lo && rank < s.hi {
			excl[ne] = span{start - s.base, w}
			ne++
			exclW += w
		}
	}
	sortSpans(excl[:ne])
	left := s.len() - ne
	total := s.sum - exclW
	for p.n < k && left > 0 && total > 0 {
		u := rng.Int64N(total)
		// Map u from the shortened line back onto the full one by stepping
		// over every excluded interval that starts at or before it.
		for _, x := range excl[:ne] {
			if x.start > u {
				break
			}
			u += x.w
		}
		e, start := s.root.locate(s.base + u)
		p.ents[p.n] = e
		p.ips[p.n] = ipOf(e, s.fam)
		p.n++
		total -= e.w
		left--
		excl[ne] = span{start - s.base, e.w}
		ne++
		sortSpans(excl[:ne])
	}
}

// sortSpans is an insertion sort: the slices here hold at most maxAnswer
// elements and are nearly sorted.
func sortSpans(a []span) {
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].start < a[j-1].start; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}
