package record

import (
	"errors"
	"net/netip"
	"testing"
)

func TestServerRoundTrip(t *testing.T) {
	for _, s := range []Server{
		{IP: netip.MustParseAddr("192.0.2.10"), Weight: 1500, Country: "de"},
		{IP: netip.MustParseAddr("2001:db8::10"), Weight: 1, Country: ""},
		{IP: netip.MustParseAddr("::ffff:198.51.100.1"), Weight: MaxWeight, Country: "uk"},
	} {
		val, err := EncodeServer(s)
		if err != nil {
			t.Fatalf("encode %v: %v", s, err)
		}
		key := ServerKey("/p", s.IP)
		got, err := DecodeServer(key, val)
		if err != nil {
			t.Fatalf("decode %s %s: %v", key, val, err)
		}
		want := s
		want.V, want.IP = Version, s.IP.Unmap()
		if got != want {
			t.Errorf("round trip: got %+v, want %+v", got, want)
		}
		if kind, id := ParseKey("/p/", key); kind != KindServer || id != want.IP.String() {
			t.Errorf("ParseKey(%q) = %v %q", key, kind, id)
		}
	}
}

func TestDecodeServerRejects(t *testing.T) {
	key := "/ntppool/servers/192.0.2.1"
	for _, tc := range []struct {
		val  string
		want error
	}{
		{`{`, ErrMalformed},
		{`[]`, ErrMalformed},
		{`{"ip":"192.0.2.1","weight":1}`, ErrMalformed},
		{`{"v":0,"ip":"192.0.2.1","weight":1}`, ErrMalformed},
		{`{"v":2,"ip":"192.0.2.1","weight":1,"new":{}}`, ErrNewerVersion},
		{`{"v":2,"ip":7}`, ErrNewerVersion},
		{`{"v":1,"ip":"300.0.2.1","weight":1}`, ErrMalformed},
		{`{"v":1,"ip":"192.0.2.1","weight":0}`, ErrInvalid},
		{`{"v":1,"ip":"192.0.2.1","weight":2147483648}`, ErrInvalid},
		{`{"v":1,"ip":"192.0.2.1","weight":5,"country":"xx"}`, ErrInvalid},
		{`{"v":1,"ip":"192.0.2.1","weight":5,"country":"DE"}`, ErrInvalid},
		{`{"v":1,"ip":"192.0.2.2","weight":5}`, ErrInvalid},
		{`{"v":1,"ip":"::ffff:192.0.2.1","weight":5}`, ErrInvalid},
		{`{"v":1,"weight":5}`, ErrInvalid},
	} {
		_, err := DecodeServer(key, []byte(tc.val))
		if !errors.Is(err, tc.want) {
			t.Errorf("DecodeServer(%s) = %v, want %v", tc.val, err, tc.want)
		}
	}
}

func TestDecodeServerIgnoresUnknownFields(t *testing.T) {
	s, err := DecodeServer("/ntppool/servers/192.0.2.1", []byte(`{"v":1,"ip":"192.0.2.1","weight":3,"later":"x"}`))
	if err != nil || s.Weight != 3 {
		t.Fatalf("got %+v, %v", s, err)
	}
}

func TestVendor(t *testing.T) {
	val, err := EncodeVendor(Vendor{Name: "acme", ClientType: ClientLegacy})
	if err != nil {
		t.Fatal(err)
	}
	v, err := DecodeVendor(VendorKey("", "acme"), val)
	if err != nil || !v.Bare() || !v.Numbered() {
		t.Fatalf("got %+v %v", v, err)
	}
	for _, bad := range []Vendor{{Name: "de"}, {Name: "europe"}, {Name: "pool"}, {Name: "www"}, {Name: "ab"}, {Name: "Acme"}, {Name: "-acme"}, {Name: "acme", ClientType: "x"}} {
		if _, err := EncodeVendor(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("EncodeVendor(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
	if _, err := DecodeVendor(VendorKey("", "other"), val); !errors.Is(err, ErrInvalid) {
		t.Errorf("name/key mismatch accepted: %v", err)
	}
	if (Vendor{Name: "acme"}).Numbered() || !(Vendor{Name: "acme", ClientType: ClientNTP}).Numbered() || (Vendor{ClientType: ClientNTP}).Bare() {
		t.Error("client types give the wrong names")
	}
}

func TestParseKey(t *testing.T) {
	for _, tc := range []struct {
		key  string
		kind Kind
		id   string
	}{
		{"/ntppool/servers/192.0.2.1", KindServer, "192.0.2.1"},
		{"/ntppool/vendors/acme", KindVendor, "acme"},
		{"/ntppool/servers/", KindUnknown, ""},
		{"/ntppool/servers/a/b", KindUnknown, ""},
		{"/ntppool/other/x", KindUnknown, ""},
		{"/elsewhere/servers/192.0.2.1", KindUnknown, ""},
	} {
		kind, id := ParseKey("/ntppool", tc.key)
		if kind != tc.kind || id != tc.id {
			t.Errorf("ParseKey(%q) = %v %q, want %v %q", tc.key, kind, id, tc.kind, tc.id)
		}
	}
}

func TestZones(t *testing.T) {
	for cc, want := range map[string]string{"de": "europe", "uk": "europe", "GB": "europe", "us": "north-america", "br": "south-america", "jp": "asia", "au": "oceania", "za": "africa", "aq": "antarctica", "xx": ""} {
		if got := Continent(cc); got != want {
			t.Errorf("Continent(%q) = %q, want %q", cc, got, want)
		}
	}
	if CountryZone("GB") != "uk" || CountryZone("De") != "de" || CountryZone("zz") != "" {
		t.Error("CountryZone")
	}
	cs := Countries()
	if len(cs) < 240 {
		t.Fatalf("only %d countries", len(cs))
	}
	for _, cc := range cs {
		if cc == "gb" {
			t.Error("Countries lists gb, want uk")
		}
		if Continent(cc) == "" {
			t.Errorf("%s has no continent", cc)
		}
	}
}

func FuzzDecodeServer(f *testing.F) {
	f.Add("/ntppool/servers/192.0.2.1", []byte(`{"v":1,"ip":"192.0.2.1","weight":3,"country":"de"}`))
	f.Add("/ntppool/servers/2001:db8::1", []byte(`{"v":2}`))
	f.Fuzz(func(t *testing.T, key string, val []byte) {
		s, err := DecodeServer(key, val)
		if err != nil {
			return
		}
		// Whatever decodes must encode back and decode to the same value.
		out, err := EncodeServer(s)
		if err != nil {
			t.Fatalf("decoded %+v does not encode: %v", s, err)
		}
		again, err := DecodeServer(ServerKey("", s.IP), out)
		if err != nil || again != s {
			t.Fatalf("re-decode %s: %+v %v", out, again, err)
		}
	})
}
