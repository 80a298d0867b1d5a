package main

import (
	"testing"

	"github.com/ntppool-ng/ntppool/internal/unitcheck"
)

func TestSystemdUnitIsValid(t *testing.T) {
	unitcheck.Verify(t, "ntppool-coredns.service")
}
