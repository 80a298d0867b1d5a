package ntppool

import (
	"encoding/binary"
	"strings"
	"sync"

	"github.com/coredns/coredns/request"
	"github.com/miekg/dns"
)

// writeReply sends m, the reply to r, and reports whether it packed m
// itself (then nothing refers to m any more).
//
// When w is CoreDNS's ScrubWriter itself, no plugin in front of this one
// wrapped the writer (cache, dnssec, log, metrics, rewrite … all do, and
// they get m through WriteMsg as usual). Then a reply of the plugin's
// common shape — one question, A or AAAA answers of the question's name,
// an OPT at most — is packed here, straight into a pooled buffer: what the
// ScrubWriter and miekg/dns would send (same header and records, the OPT
// made as CoreDNS's SizeAndDo makes it; answer names are compressed to the
// question's), without their measuring pass and allocations. Anything else,
// or a reply bigger than 512 bytes (which might need truncating), takes the
// ordinary path.
func writeReply(w dns.ResponseWriter, r, m *dns.Msg) bool {
	sw, ok := w.(*request.ScrubWriter)
	if !ok {
		w.WriteMsg(m)
		return false
	}
	bp := packBufs.Get().(*[]byte)
	defer packBufs.Put(bp)
	b, ok := packSimple((*bp)[:0], r, m)
	if !ok {
		w.WriteMsg(m)
		return false
	}
	*bp = b
	sw.ResponseWriter.Write(b)
	return true
}

// fastMax is the largest reply packed here: one that fits any UDP client.
const fastMax = dns.MinMsgSize

var packBufs = sync.Pool{New: func() any { b := make([]byte, 0, fastMax); return &b }}

// packSimple appends the wire form of m to b, or reports false when m is
// not of the shape it handles.
func packSimple(b []byte, r, m *dns.Msg) ([]byte, bool) {
	if len(m.Question) != 1 || len(m.Ns) != 0 || m.Rcode > 0xF || m.Rcode < 0 {
		return nil, false
	}
	q := m.Question[0]
	if len(q.Name) == 0 || len(q.Name) > 255 || strings.IndexByte(q.Name, '\\') >= 0 {
		return nil, false
	}
	// The reply's OPT: the query's, as CoreDNS's SizeAndDo makes it, with
	// the options m carries. A query OPT with options of its own (cookies,
	// NSID…) and no reply OPT leaves it to CoreDNS.
	qopt := r.IsEdns0()
	var ropt *dns.OPT
	switch len(m.Extra) {
	case 0:
	case 1:
		o, ok := m.Extra[0].(*dns.OPT)
		if !ok || qopt == nil {
			return nil, false
		}
		ropt = o
	default:
		return nil, false
	}
	if qopt != nil && ropt == nil && len(qopt.Option) > 0 {
		return nil, false
	}

	var flags uint16
	if m.Response {
		flags |= 1 << 15
	}
	flags |= uint16(m.Opcode&0xF) << 11
	if m.Authoritative {
		flags |= 1 << 10
	}
	if m.Truncated {
		flags |= 1 << 9
	}
	if m.RecursionDesired {
		flags |= 1 << 8
	}
	if m.RecursionAvailable {
		flags |= 1 << 7
	}
	if m.Zero {
		flags |= 1 << 6
	}
	if m.AuthenticatedData {
		flags |= 1 << 5
	}
	if m.CheckingDisabled {
		flags |= 1 << 4
	}
	flags |= uint16(m.Rcode & 0xF)
	arcount := 0
	if qopt != nil {
		arcount = 1
	}
	b = binary.BigEndian.AppendUint16(b, m.Id)
	b = binary.BigEndian.AppendUint16(b, flags)
	b = binary.BigEndian.AppendUint16(b, 1)
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.Answer)))
	b = binary.BigEndian.AppendUint16(b, 0)
	b = binary.BigEndian.AppendUint16(b, uint16(arcount))

	var ok bool
	if b, ok = appendName(b, q.Name); !ok {
		return nil, false
	}
	b = binary.BigEndian.AppendUint16(b, q.Qtype)
	b = binary.BigEndian.AppendUint16(b, q.Qclass)

	for _, rr := range m.Answer {
		h := rr.Header()
		if h.Name != q.Name || h.Class != dns.ClassINET {
			return nil, false
		}
		var data []byte
		switch v := rr.(type) {
		case *dns.A:
			data = v.A.To4()
			if data == nil || h.Rrtype != dns.TypeA {
				return nil, false
			}
		case *dns.AAAA:
			data = v.AAAA.To16()
			if data == nil || h.Rrtype != dns.TypeAAAA {
				return nil, false
			}
		default:
			return nil, false
		}
		b = append(b, 0xC0, 12) // the question's name
		b = binary.BigEndian.AppendUint16(b, h.Rrtype)
		b = binary.BigEndian.AppendUint16(b, h.Class)
		b = binary.BigEndian.AppendUint32(b, h.Ttl)
		b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
		b = append(b, data...)
	}

	if qopt != nil {
		// Root name, type OPT, class = UDP size, TTL = extended rcode 0,
		// version 0 and the DO bit.
		b = append(b, 0)
		b = binary.BigEndian.AppendUint16(b, dns.TypeOPT)
		b = binary.BigEndian.AppendUint16(b, qopt.UDPSize())
		// As SizeAndDo: the reply OPT's (else the query's) DO and Z bits,
		// the query's DO added.
		ttl := qopt.Hdr.Ttl & 0xff00
		if ropt != nil {
			ttl = ropt.Hdr.Ttl & 0xff00
			if qopt.Do() {
				ttl |= 1 << 15
			}
		}
		b = binary.BigEndian.AppendUint32(b, ttl)
		lenAt := len(b)
		b = append(b, 0, 0)
		if ropt != nil {
			for _, o := range ropt.Option {
				l, ok := o.(*dns.EDNS0_LOCAL)
				if !ok || len(l.Data) > 0xFFFF {
					return nil, false
				}
				b = binary.BigEndian.AppendUint16(b, l.Code)
				b = binary.BigEndian.AppendUint16(b, uint16(len(l.Data)))
				b = append(b, l.Data...)
			}
		}
		binary.BigEndian.PutUint16(b[lenAt:], uint16(len(b)-lenAt-2))
	}
	if len(b) > fastMax {
		return nil, false
	}
	return b, true
}

// appendName appends the wire form of a fully qualified name without
// escapes.
func appendName(b []byte, name string) ([]byte, bool) {
	if name == "." {
		return append(b, 0), true
	}
	if name[len(name)-1] != '.' {
		return nil, false
	}
	for len(name) > 0 {
		i := strings.IndexByte(name, '.')
		if i <= 0 || i > 63 {
			return nil, false
		}
		b = append(b, byte(i))
		b = append(b, name[:i]...)
		name = name[i+1:]
	}
	return append(b, 0), true
}
