package ntppool

import (
	"slices"
	"strings"

	"github.com/ntppool-ng/ntppool/record"
)

// nameKind says what a query name under the origin is.
type nameKind uint8

const (
	nameNX      nameKind = iota // no such name
	namePool                    // a name that answers with servers
	nameCountry                 // the _country debug name
)

// parsedName is a query name relative to the origin.
type parsedName struct {
	kind nameKind
	apex bool  // the origin itself
	zone *zone // explicit zone label; nil means targeted by client location
	num  int   // 0..3 for numbered labels, -1 otherwise
}

// debugLabel is the pool's debug name: TXT answers tell how a client is seen.
const debugLabel = "_country"

// classify parses labels, the part of the query name in front of the origin
// without its final dot ("" for the apex), case-insensitively and without
// allocating.
func (ix *index) classify(labels string) parsedName {
	if labels == "" {
		return parsedName{kind: namePool, apex: true, num: -1}
	}
	first, rest, two := strings.Cut(labels, ".")
	if strings.Contains(rest, ".") {
		return parsedName{}
	}
	if !two {
		if n, ok := digit(first); ok {
			return parsedName{kind: namePool, num: n}
		}
		if strings.EqualFold(first, debugLabel) {
			return parsedName{kind: nameCountry, num: -1}
		}
		return ix.zoneOrVendor(first, -1)
	}
	n, ok := digit(first)
	if !ok {
		return parsedName{}
	}
	return ix.zoneOrVendor(rest, n)
}

// zoneOrVendor resolves a country, continent or vendor label with subset num.
func (ix *index) zoneOrVendor(label string, num int) parsedName {
	var buf [63]byte
	if len(label) > len(buf) {
		return parsedName{}
	}
	low := buf[:len(label)]
	for i := 0; i < len(label); i++ {
		c := label[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		low[i] = c
	}
	// string(low) in a map index does not allocate.
	if z, ok := ix.zones[string(low)]; ok {
		return parsedName{kind: namePool, zone: z, num: num}
	}
	if v, ok := ix.vendors[string(low)]; ok {
		if num < 0 && v.Bare() || num >= 0 && v.Numbered() {
			return parsedName{kind: namePool, num: num}
		}
	}
	return parsedName{}
}

func digit(s string) (int, bool) {
	if len(s) == 1 && s[0] >= '0' && s[0] < '0'+subsets {
		return int(s[0] - '0'), true
	}
	return 0, false
}

// splitOrigin returns the labels of qname in front of one of origins
// (without the joining dot), matching case-insensitively.
func splitOrigin(qname string, origins []string) (origin, labels string, ok bool) {
	for _, o := range origins {
		if len(qname) < len(o) || !strings.EqualFold(qname[len(qname)-len(o):], o) {
			continue
		}
		if len(qname) == len(o) {
			return o, "", true
		}
		if o == "." {
			return o, qname[:len(qname)-1], true
		}
		if qname[len(qname)-len(o)-1] == '.' {
			return o, qname[:len(qname)-len(o)-1], true
		}
	}
	return "", "", false
}

// isPoolName reports whether labels (relative to the origin, as for
// classify) is a name the plugin answers whatever etcd holds: the apex, N.,
// country and continent labels with their numbers, and the debug name.
// Vendor names come and go with etcd.
func isPoolName(labels string) bool {
	if labels == "" {
		return true
	}
	first, rest, two := strings.Cut(labels, ".")
	if strings.Contains(rest, ".") {
		return false
	}
	if !two {
		_, num := digit(first)
		return num || strings.EqualFold(first, debugLabel) || isZoneLabel(first)
	}
	_, num := digit(first)
	return num && isZoneLabel(rest)
}

func isZoneLabel(l string) bool {
	l = strings.ToLower(l)
	return record.ValidCountry(l) || slices.Contains(record.Continents, l)
}
