// Package e2e holds tests that run the control plane's packages together
// with the ntppool CoreDNS plugin in one process: a score change travels
// from the store through the publisher and etcd to a DNS answer. It has no
// code of its own, so the control plane binary never links CoreDNS.
package e2e
