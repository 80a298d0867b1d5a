// Package record is the contract between the control plane, which writes the
// pool's published server sets into etcd, and the ntppool CoreDNS plugin, which
// reads them. It imports only the standard library, so that neither side pulls
// in the other's dependencies.
//
// # Key layout
//
// Every key lives under one prefix (default "/ntppool/", configurable on both
// sides). Below it:
//
//	<prefix>servers/<ip>     one Server per published NTP server, <ip> in
//	                         netip canonical form (192.0.2.10, 2001:db8::10)
//	<prefix>vendors/<name>   one Vendor per approved vendor zone
//
// A server change is one Put or Delete of one key, so the control plane never
// rewrites whole zones. A key that exists means "answer with this"; a server
// that must leave the DNS is deleted. Keys under the prefix that match neither
// form are ignored by readers, so later versions can add new kinds.
//
// # Values
//
// Values are JSON objects. Every value carries "v", the format version:
//
//	servers/192.0.2.10  {"v":1,"ip":"192.0.2.10","weight":1500,"country":"de"}
//	vendors/acme        {"v":1,"name":"acme","client_type":"sntp"}
//
// Server fields: ip (must equal the key's <ip>), weight (the selection weight,
// normally the owner's net speed in kbit/s; 1..2^31-1), country (ISO 3166
// alpha-2, lower case, "" for none: such a server is only in the global
// zone). The plugin derives the continent from the country with [Continent],
// the pool's own table, not from GeoIP.
//
// Vendor fields: name (the DNS label, [ValidVendorName]), client_type ("sntp":
// only <name>; "ntp": only 0..3.<name>; "legacy": both; empty means "sntp").
//
// # Versions
//
// [Version] is the version this package writes and the highest it reads. A
// change that old readers can ignore (a new optional field) keeps the
// version; anything else raises it. A reader that meets a value whose "v" is
// higher than its own, or a value it cannot decode or validate, skips that key
// (and counts it), keeps every other key, and never fails as a whole: so the
// control plane can be upgraded before or after the DNS servers.
//
// # Usage
//
//	// writer
//	key := record.ServerKey(prefix, srv.IP)
//	val, err := record.EncodeServer(srv)
//	cli.Put(ctx, key, string(val))
//
//	// reader
//	switch kind, _ := record.ParseKey(prefix, key); kind {
//	case record.KindServer:
//	    srv, err := record.DecodeServer(key, value) // err: skip and count
//	}
package record
