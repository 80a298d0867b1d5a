package ntppool

// Ready implements ready.Readiness: true once an index is loaded, and it
// stays true while the last index is served without etcd.
func (p *NTPPool) Ready() bool { return p.idx.Load() != nil }
