package ntpserver

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"
)

const (
	packetLen   = 48
	modeClient  = 3
	modeServer  = 4
	ntpEpochGap = 2208988800 // seconds from 1900-01-01 to 1970-01-01
)

// Reply writes into buf (at least 48 bytes) the answer to the request req
// received at now, and returns it, or nil when the request gets no answer:
// silence, or a packet that is not an NTPv3/v4 client request. It never
// panics, whatever req holds.
func Reply(buf, req []byte, now time.Time, cfg *Config) []byte {
	if len(buf) < packetLen || len(req) < packetLen || cfg.Silent {
		return nil
	}
	version := (req[0] >> 3) & 7
	if req[0]&7 != modeClient || (version != 3 && version != 4) {
		return nil
	}
	out := buf[:packetLen]
	clear(out)
	if cfg.Malformed {
		// A truncated packet with a nonsense mode: every client rejects it.
		copy(out, req[:packetLen])
		return out[:packetLen-1]
	}
	leap, stratum := cfg.Leap, cfg.Stratum
	refid, _ := cfg.refID()
	if cfg.KissCode != "" {
		leap, stratum = 3, 0
	} else if stratum == 0 {
		stratum = 2
	}
	out[0] = leap<<6 | version<<3 | modeServer
	out[1] = stratum
	out[2] = req[2]                                 // poll: echo the client's
	out[3] = 0xec                                   // precision 2^-20 s
	binary.BigEndian.PutUint32(out[4:], 0x00000100) // root delay ~3.9 ms
	binary.BigEndian.PutUint32(out[8:], 0x00000100) // root dispersion ~3.9 ms
	copy(out[12:16], refid[:])
	t := now.Add(cfg.Offset)
	binary.BigEndian.PutUint64(out[16:], timestamp(t.Add(-16*time.Second)))
	copy(out[24:32], req[40:48]) // origin = the client's transmit time
	binary.BigEndian.PutUint64(out[32:], timestamp(t))
	binary.BigEndian.PutUint64(out[40:], timestamp(time.Now().Add(cfg.Offset)))
	return out
}

// refID is the 4 reference id bytes the configuration asks for.
func (c *Config) refID() ([4]byte, error) {
	var b [4]byte
	switch {
	case c.KissCode != "":
		copy(b[:], c.KissCode)
	case c.RefID == "" && c.Stratum == 1:
		copy(b[:], "LOCL")
	case c.RefID == "":
		b = [4]byte{127, 0, 0, 1}
	default:
		if a, err := netip.ParseAddr(c.RefID); err == nil && a.Is4() {
			return a.As4(), nil
		}
		if len(c.RefID) > 4 {
			return b, fmt.Errorf("ntpserver: reference id %q is neither an IPv4 address nor up to 4 characters", c.RefID)
		}
		copy(b[:], c.RefID)
	}
	return b, nil
}

// timestamp encodes t as a 64-bit NTP timestamp (era wraps silently, as on
// the wire).
func timestamp(t time.Time) uint64 {
	secs := uint64(t.Unix() + ntpEpochGap)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return secs<<32 | frac
}
