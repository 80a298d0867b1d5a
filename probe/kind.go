package probe

import (
	"errors"
	"net"
	"syscall"

	"github.com/beevik/ntp"
)

// Kind names a probe's outcome; it is the "result" label of the monitor's
// probe counter.
type Kind string

const (
	KindOK          Kind = "ok"
	KindKissOfDeath Kind = "kod"
	KindBadStratum  Kind = "bad_stratum"
	KindRejected    Kind = "rejected"  // a reply the NTP library refuses
	KindMalformed   Kind = "malformed" // a reply that is not a parsable NTP answer
	KindTimeout     Kind = "timeout"
	KindRefused     Kind = "refused"     // ICMP port unreachable
	KindUnreachable Kind = "unreachable" // no route, host or network down
	KindNetwork     Kind = "network"     // any other socket error
	KindNotPublic   Kind = "not_public"  // refused target, never queried
)

// Kinds lists every kind, so metrics can start each label at zero.
var Kinds = []Kind{KindOK, KindKissOfDeath, KindBadStratum, KindRejected, KindMalformed,
	KindTimeout, KindRefused, KindUnreachable, KindNetwork, KindNotPublic}

// rank orders failed samples: an answer that arrived beats silence.
func (k Kind) rank() int {
	switch k {
	case KindOK:
		return 4
	case KindRejected:
		return 3
	case KindMalformed:
		return 2
	case KindRefused, KindUnreachable:
		return 1
	}
	return 0
}

func (k Kind) text(err error) string {
	switch k {
	case KindTimeout:
		return "timeout"
	case KindRefused:
		return "connection refused"
	case KindUnreachable:
		return "unreachable: " + err.Error()
	}
	return err.Error()
}

// classify sorts a query error once, most specific first.
func classify(err error) Kind {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindRefused
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, syscall.EHOSTDOWN), errors.Is(err, syscall.ENETDOWN):
		return KindUnreachable
	case errors.As(err, &ne) && ne.Timeout():
		return KindTimeout
	case errors.Is(err, ntp.ErrInvalidMode), errors.Is(err, ntp.ErrInvalidTransmitTime),
		errors.Is(err, ntp.ErrServerTickedBackwards), errors.Is(err, ntp.ErrInvalidTime),
		errors.Is(err, ntp.ErrServerResponseMismatch):
		return KindMalformed
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return KindNetwork
	}
	return KindMalformed
}
