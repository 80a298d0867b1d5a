package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Version is the record format version written by this package and the
// highest one it can read.
const Version = 1

// DefaultPrefix is the etcd key prefix both sides use unless configured.
const DefaultPrefix = "/ntppool/"

// MaxWeight bounds a server's weight so sums over 100,000 servers fit int64
// with room to spare and a typo cannot starve a zone.
const MaxWeight = 1<<31 - 1

const (
	serversDir = "servers/"
	vendorsDir = "vendors/"
)

// Sentinel errors; decoders wrap them with the key.
var (
	ErrMalformed    = errors.New("record: malformed value")
	ErrNewerVersion = errors.New("record: newer format version")
	ErrInvalid      = errors.New("record: invalid field")
)

// Kind says what a key under the prefix holds.
type Kind int

const (
	KindUnknown Kind = iota
	KindServer
	KindVendor
)

// Server is one published NTP server.
type Server struct {
	V       int        `json:"v"`
	IP      netip.Addr `json:"ip"`
	Weight  int64      `json:"weight"`
	Country string     `json:"country,omitempty"`
}

// ClientType says which names a vendor zone answers.
type ClientType string

const (
	ClientSNTP   ClientType = "sntp"   // <name> only
	ClientNTP    ClientType = "ntp"    // 0..3.<name> only
	ClientLegacy ClientType = "legacy" // both
)

// Vendor is one approved vendor zone.
type Vendor struct {
	V          int        `json:"v"`
	Name       string     `json:"name"`
	ClientType ClientType `json:"client_type,omitempty"`
}

// Bare reports whether the vendor answers on <name> itself.
func (v Vendor) Bare() bool { return v.ClientType != ClientNTP }

// Numbered reports whether the vendor answers on 0..3.<name>.
func (v Vendor) Numbered() bool { return v.ClientType == ClientNTP || v.ClientType == ClientLegacy }

// NormalizePrefix returns p with exactly one trailing slash ("" gives DefaultPrefix).
func NormalizePrefix(p string) string {
	if p == "" {
		return DefaultPrefix
	}
	return strings.TrimRight(p, "/") + "/"
}

// ServersPrefix is the key prefix of all server records.
func ServersPrefix(prefix string) string { return NormalizePrefix(prefix) + serversDir }

// VendorsPrefix is the key prefix of all vendor records.
func VendorsPrefix(prefix string) string { return NormalizePrefix(prefix) + vendorsDir }

// ServerKey is the key of the server with address ip.
func ServerKey(prefix string, ip netip.Addr) string {
	return ServersPrefix(prefix) + ip.Unmap().String()
}

// VendorKey is the key of the vendor zone name.
func VendorKey(prefix, name string) string { return VendorsPrefix(prefix) + name }

// ParseKey tells what key holds and returns its last element (the IP or the
// vendor name). Keys of unknown kinds give KindUnknown.
func ParseKey(prefix, key string) (Kind, string) {
	rest, ok := strings.CutPrefix(key, NormalizePrefix(prefix))
	if !ok {
		return KindUnknown, ""
	}
	if id, ok := strings.CutPrefix(rest, serversDir); ok && id != "" && !strings.Contains(id, "/") {
		return KindServer, id
	}
	if id, ok := strings.CutPrefix(rest, vendorsDir); ok && id != "" && !strings.Contains(id, "/") {
		return KindVendor, id
	}
	return KindUnknown, ""
}

// EncodeServer validates s and returns its JSON value, with V set to Version.
func EncodeServer(s Server) ([]byte, error) {
	s.V = Version
	s.IP = s.IP.Unmap()
	if err := s.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(s)
}

// DecodeServer decodes and validates the value stored at key.
func DecodeServer(key string, value []byte) (Server, error) {
	var s Server
	if err := decode(value, &s, &s.V); err != nil {
		return Server{}, fmt.Errorf("%s: %w", key, err)
	}
	if err := s.validate(); err != nil {
		return Server{}, fmt.Errorf("%s: %w", key, err)
	}
	if _, id := lastElem(key); id != "" && id != s.IP.String() {
		return Server{}, fmt.Errorf("%s: ip %s does not match the key: %w", key, s.IP, ErrInvalid)
	}
	return s, nil
}

// EncodeVendor validates v and returns its JSON value, with V set to Version.
func EncodeVendor(v Vendor) ([]byte, error) {
	v.V = Version
	if err := v.validate(); err != nil {
		return nil, err
	}
	return json.Marshal(v)
}

// DecodeVendor decodes and validates the value stored at key.
func DecodeVendor(key string, value []byte) (Vendor, error) {
	var v Vendor
	if err := decode(value, &v, &v.V); err != nil {
		return Vendor{}, fmt.Errorf("%s: %w", key, err)
	}
	if err := v.validate(); err != nil {
		return Vendor{}, fmt.Errorf("%s: %w", key, err)
	}
	if _, id := lastElem(key); id != "" && id != v.Name {
		return Vendor{}, fmt.Errorf("%s: name %q does not match the key: %w", key, v.Name, ErrInvalid)
	}
	return v, nil
}

// decode reads the version first, so a newer record is reported as such even
// when its other fields would not decode.
func decode(value []byte, dst any, version *int) error {
	var head struct {
		V *int `json:"v"`
	}
	if err := json.Unmarshal(value, &head); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if head.V == nil || *head.V < 1 {
		return fmt.Errorf("%w: missing or bad version", ErrMalformed)
	}
	if *head.V > Version {
		return fmt.Errorf("%w: %d > %d", ErrNewerVersion, *head.V, Version)
	}
	if err := json.NewDecoder(bytes.NewReader(value)).Decode(dst); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	*version = *head.V
	return nil
}

func lastElem(key string) (string, string) {
	i := strings.LastIndexByte(key, '/')
	return key[:i+1], key[i+1:]
}

func (s Server) validate() error {
	switch {
	case !s.IP.IsValid() || s.IP.Is4In6() || s.IP.Zone() != "":
		return fmt.Errorf("bad ip %q: %w", s.IP, ErrInvalid)
	case s.Weight < 1 || s.Weight > MaxWeight:
		return fmt.Errorf("weight %d outside 1..%d: %w", s.Weight, MaxWeight, ErrInvalid)
	case s.Country != "" && !ValidCountry(s.Country):
		return fmt.Errorf("unknown country %q: %w", s.Country, ErrInvalid)
	}
	return nil
}

func (v Vendor) validate() error {
	if !ValidVendorName(v.Name) {
		return fmt.Errorf("bad vendor name %q: %w", v.Name, ErrInvalid)
	}
	switch v.ClientType {
	case "", ClientSNTP, ClientNTP, ClientLegacy:
		return nil
	}
	return fmt.Errorf("bad client_type %q: %w", v.ClientType, ErrInvalid)
}
