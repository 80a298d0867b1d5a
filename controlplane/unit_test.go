package main

import (
	"strings"
	"testing"

	"github.com/ntppool-ng/ntppool/internal/unitcheck"
)

// TestSystemdUnitIsValid: systemd accepts the unit, and every variable it
// sets is one "serve" reads (the TLS test runs serve with them).
func TestSystemdUnitIsValid(t *testing.T) {
	const unit = "ntppool-controlplane.service"
	unitcheck.Verify(t, unit)
	_, help, _ := runCmd(t, "serve", "-help")
	for _, kv := range unitcheck.Environment(t, unit, "/creds") {
		name, _, _ := strings.Cut(kv, "=")
		if !strings.Contains(help, "env "+strings.TrimSuffix(name, "_FILE")) {
			t.Errorf("%s sets %s, which serve does not read", unit, name)
		}
	}
}
