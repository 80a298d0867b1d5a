package record

import (
	"slices"
	"strings"
)

// Continents are the seven continent zone labels, in the order the pool's
// front page lists them.
var Continents = []string{"africa", "antarctica", "asia", "europe", "north-america", "oceania", "south-america"}

// ValidCountry reports whether cc is a known ISO 3166 alpha-2 code in lower
// case ("uk" included, as the pool's name for the United Kingdom).
func ValidCountry(cc string) bool {
	_, ok := continentOf[cc]
	return ok || cc == "uk"
}

// CountryZone returns the zone label of country code cc: lower case, with
// "gb" written as the pool's historic "uk". It returns "" for unknown codes.
func CountryZone(cc string) string {
	cc = strings.ToLower(cc)
	if cc == "gb" {
		return "uk"
	}
	if !ValidCountry(cc) {
		return ""
	}
	return cc
}

// Continent returns the continent zone of country zone cc ("uk" and "gb"
// included), or "" when cc is unknown.
func Continent(cc string) string {
	cc = strings.ToLower(cc)
	if cc == "uk" {
		cc = "gb"
	}
	return continentOf[cc]
}

// Countries returns every country zone label, "uk" in place of "gb", sorted.
func Countries() []string {
	out := make([]string, 0, len(continentOf))
	for cc := range continentOf {
		out = append(out, CountryZone(cc))
	}
	slices.Sort(out)
	return out
}

// IsContinent reports whether label is one of the seven continent zones.
func IsContinent(label string) bool {
	return slices.Contains(Continents, label)
}

// reservedVendorNames are the pool's reserved words; every country and
// continent label and "www" are reserved on top of them.
var reservedVendorNames = map[string]bool{
	"europe": true, "north-america": true, "south-america": true, "america": true,
	"asia": true, "africa": true, "root": true, "ntppool": true, "vendor": true,
	"pool": true, "time": true, "ntp": true, "sntp": true, "www": true,
}

// ValidVendorName reports whether name can be a vendor zone label: 4 to 63
// characters of a-z, 0-9 and '-', not starting or ending with '-', and not
// reserved (pool words, countries, continents, "www").
func ValidVendorName(name string) bool {
	if len(name) < 4 || len(name) > 63 || name[0] == '-' || name[len(name)-1] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return !reservedVendorNames[name] && !IsContinent(name) && !ValidCountry(name)
}
