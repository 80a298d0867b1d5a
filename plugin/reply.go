package ntppool

import (
	"sync"

	"github.com/coredns/coredns/request"
	"github.com/miekg/dns"
)

// reply holds one answer: the message and its question in one piece, and,
// when writeReply may pack it itself, room for its address records too.
// A reply writeReply packed is referred to by nobody after, so it goes
// back to a pool and the next answer allocates nothing for it. Replies
// written through WriteMsg (a plugin in front, or a shape writeReply
// leaves to CoreDNS) are never reused: their readers may keep them.
type reply struct {
	msg  dns.Msg
	q    [1]dns.Question
	recs *replyRecords // nil: records are allocated per answer
}

// replyRecords is the record storage of a pooled reply.
type replyRecords struct {
	rrs  [maxAnswer]dns.RR
	a    [maxAnswer]dns.A
	aaaa [maxAnswer]dns.AAAA
	n    int // records in use
}

var replies = sync.Pool{New: func() any { return &reply{recs: new(replyRecords)} }}

// newReply returns a reply to r, set up as dns.Msg.SetReply does; pooled
// when w is CoreDNS's ScrubWriter itself (see writeReply).
func newReply(w dns.ResponseWriter, r *dns.Msg) *reply {
	var rp *reply
	if _, ok := w.(*request.ScrubWriter); ok {
		rp = replies.Get().(*reply)
	} else {
		rp = new(reply)
	}
	m := &rp.msg
	m.Id = r.Id
	m.Response = true
	m.Opcode = r.Opcode
	if m.Opcode == dns.OpcodeQuery {
		m.RecursionDesired = r.RecursionDesired
		m.CheckingDisabled = r.CheckingDisabled
	}
	m.Rcode = dns.RcodeSuccess
	if len(r.Question) > 0 {
		rp.q[0] = r.Question[0]
		m.Question = rp.q[:1:1]
	}
	return rp
}

// free returns a pooled rp to the pool; nothing may use it or its message
// after.
func (rp *reply) free() {
	s := rp.recs
	if s == nil {
		return
	}
	clear(s.rrs[:s.n])
	clear(s.a[:s.n])
	clear(s.aaaa[:s.n])
	s.n = 0
	rp.q[0] = dns.Question{}
	rp.msg = dns.Msg{}
	replies.Put(rp)
}

// records turns the chosen servers into the reply's records, which share
// only the servers' read-only IP bytes with the index.
func (rp *reply) records(pk *picked, f int, qname string, ttl uint32) []dns.RR {
	var rrs []dns.RR
	var a []dns.A
	var aaaa []dns.AAAA
	if s := rp.recs; s != nil {
		s.n = pk.n
		rrs, a, aaaa = s.rrs[:pk.n:pk.n], s.a[:pk.n], s.aaaa[:pk.n]
	} else {
		rrs = make([]dns.RR, pk.n)
		if f == fam4 {
			a = make([]dns.A, pk.n)
		} else {
			aaaa = make([]dns.AAAA, pk.n)
		}
	}
	for i, ip := range pk.ips[:pk.n] {
		if f == fam4 {
			a[i] = dns.A{Hdr: hdr(qname, dns.TypeA, ttl), A: ip}
			rrs[i] = &a[i]
		} else {
			aaaa[i] = dns.AAAA{Hdr: hdr(qname, dns.TypeAAAA, ttl), AAAA: ip}
			rrs[i] = &aaaa[i]
		}
	}
	return rrs
}
