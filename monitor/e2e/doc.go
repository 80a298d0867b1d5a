// Package e2e holds the end-to-end test of the monitor agent against the
// real control plane API (controlplane/api over SQLite) and real UDP NTP
// responders. It has no code of its own, so the agent's binary never links
// the control plane.
package e2e
