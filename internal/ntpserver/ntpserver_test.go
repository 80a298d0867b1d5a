package ntpserver

import (
	"errors"
	"math"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/beevik/ntp"
)

func start(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Listen("127.0.0.1:0", cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func query(t *testing.T, s *Server) (*ntp.Response, error) {
	t.Helper()
	return ntp.QueryWithOptions(s.Addr().String(), ntp.QueryOptions{Timeout: 500 * time.Millisecond})
}

func TestRepliesCarryConfiguredValues(t *testing.T) {
	for _, tc := range []struct {
		name    string
		cfg     Config
		offset  time.Duration
		stratum uint8
		leap    ntp.LeapIndicator
		ref     string
	}{
		{"healthy", Config{}, 0, 2, 0, "127.0.0.1"},
		{"ahead100ms", Config{Offset: 100 * time.Millisecond}, 100 * time.Millisecond, 2, 0, "127.0.0.1"},
		{"behind2s", Config{Offset: -2 * time.Second}, -2 * time.Second, 2, 0, "127.0.0.1"},
		{"stratum1", Config{Stratum: 1, RefID: "GPS"}, 0, 1, 0, ".GPS."},
		{"stratum12", Config{Stratum: 12, RefID: "192.0.2.7"}, 0, 12, 0, "192.0.2.7"},
		{"leapalarm", Config{Leap: 3}, 0, 2, ntp.LeapNotInSync, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := query(t, start(t, tc.cfg))
			if err != nil {
				t.Fatal(err)
			}
			if d := r.ClockOffset - tc.offset; d.Abs() > 20*time.Millisecond {
				t.Errorf("offset %v, want %v", r.ClockOffset, tc.offset)
			}
			if r.Stratum != tc.stratum || r.Leap != tc.leap || r.ReferenceString() != tc.ref {
				t.Errorf("stratum %d leap %d ref %q, want %d %d %q", r.Stratum, r.Leap, r.ReferenceString(), tc.stratum, tc.leap, tc.ref)
			}
			if tc.leap != ntp.LeapNotInSync {
				if err := r.Validate(); err != nil {
					t.Errorf("validate: %v", err)
				}
			}
		})
	}
}

func TestKissOfDeath(t *testing.T) {
	for _, code := range []string{"RATE", "DENY", "RSTR"} {
		r, err := query(t, start(t, Config{KissCode: code}))
		if err != nil {
			t.Fatal(err)
		}
		if !r.IsKissOfDeath() || r.KissCode != code {
			t.Errorf("stratum %d kiss %q, want KoD %q", r.Stratum, r.KissCode, code)
		}
	}
}

func TestSilentAndMalformed(t *testing.T) {
	s := start(t, Config{Silent: true})
	_, err := query(t, s)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("silent server: err %v, want timeout", err)
	}
	if err := s.SetConfig(Config{Malformed: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := query(t, s); err == nil || errors.As(err, &ne) {
		t.Fatalf("malformed reply: err %v, want a parse error", err)
	}
	if s.Served() != 1 || s.Dropped() != 1 {
		t.Errorf("served %d dropped %d, want 1 1", s.Served(), s.Dropped())
	}
}

func TestBadConfigRefused(t *testing.T) {
	for _, cfg := range []Config{{Leap: 4}, {Stratum: 17}, {KissCode: "TOOLONG"}, {RefID: "hello"}} {
		if _, err := Listen("127.0.0.1:0", cfg); err == nil {
			t.Errorf("Listen(%+v) accepted", cfg)
		}
	}
	s := start(t, Config{Offset: time.Second})
	if err := s.SetConfig(Config{Leap: 9}); err == nil || s.Config().Offset != time.Second {
		t.Errorf("SetConfig kept a bad config: %v %+v", err, s.Config())
	}
}

// TestGarbageDoesNotStopServer sends packets no client would, then checks the
// server still answers.
func TestGarbageDoesNotStopServer(t *testing.T) {
	s := start(t, Config{})
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(s.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	bad := [][]byte{{}, {0x1b}, make([]byte, 47), make([]byte, 48), make([]byte, 400)}
	srvMode := make([]byte, 48)
	srvMode[0] = 4<<3 | 4
	bad = append(bad, srvMode)
	v2 := make([]byte, 48)
	v2[0] = 2<<3 | 3
	bad = append(bad, v2)
	for _, b := range bad {
		c.Write(b)
	}
	if _, err := query(t, s); err != nil {
		t.Fatalf("after garbage: %v", err)
	}
}

func FuzzReply(f *testing.F) {
	req := make([]byte, 48)
	req[0] = 4<<3 | 3
	f.Add(req, int64(0), uint8(2), uint8(0), "", false)
	f.Add(req[:20], int64(time.Second), uint8(0), uint8(3), "RATE", true)
	f.Fuzz(func(t *testing.T, req []byte, off int64, stratum, leap uint8, kiss string, malformed bool) {
		cfg := &Config{Offset: time.Duration(off), Stratum: stratum, Leap: leap, KissCode: kiss, Malformed: malformed}
		if cfg.validate() != nil {
			return
		}
		var buf [packetLen]byte
		out := Reply(buf[:], req, time.Now(), cfg)
		if len(out) > packetLen {
			t.Fatalf("reply of %d bytes", len(out))
		}
	})
}

func TestTimestampEncoding(t *testing.T) {
	ts := timestamp(time.Unix(0, 500_000_000))
	if ts>>32 != ntpEpochGap || math.Abs(float64(uint32(ts))/(1<<32)-0.5) > 1e-9 {
		t.Errorf("timestamp %x", ts)
	}
}

func TestListenSamePort(t *testing.T) {
	var addrs []netip.Addr
	var cfgs []Config
	for i := range 20 {
		addrs = append(addrs, netip.AddrFrom4([4]byte{127, 0, 1, byte(10 + i)}))
		cfgs = append(cfgs, Config{Stratum: uint8(1 + i%5)})
	}
	all, err := ListenSamePort(addrs, cfgs)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range all {
		defer s.Close()
		if s.Addr().Addr() != addrs[i] || s.Addr().Port() != all[0].Addr().Port() {
			t.Fatalf("server %d on %v", i, s.Addr())
		}
		r, err := ntp.QueryWithOptions(s.Addr().String(), ntp.QueryOptions{Timeout: time.Second})
		if err != nil || int(r.Stratum) != 1+i%5 {
			t.Fatalf("server %d: %v %v", i, r, err)
		}
	}
}
