package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"time"
)

// ticket signs (monitor, batch, ip): a monitor can return results only for
// servers it was handed in that batch.
func ticket(key []byte, monitorID int64, batchID string, ip netip.Addr) string {
	mac := hmac.New(sha256.New, key)
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], uint64(monitorID))
	mac.Write(id[:])
	// Length-prefix the batch id so no two (batch, ip) pairs share bytes.
	mac.Write([]byte(strconv.Itoa(len(batchID)) + ":" + batchID))
	mac.Write([]byte(ip.Unmap().String()))
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// Ticket is the ticket the control plane issues for ip to monitorID in
// batchID under key. Tools and tests holding the key may mint one.
func Ticket(key []byte, monitorID int64, batchID string, ip netip.Addr) string {
	return ticket(key, monitorID, batchID, ip)
}

func validTicket(key []byte, monitorID int64, batchID string, ip netip.Addr, got string) bool {
	return hmac.Equal([]byte(ticket(key, monitorID, batchID, ip)), []byte(got))
}

// newBatchID is time-ordered as a string: 16 hex digits of Unix
// nanoseconds, then 8 random hex digits so two instances never collide.
func newBatchID(now time.Time) string {
	var b [4]byte
	rand.Read(b[:])
	return fmt.Sprintf("%016x%x", uint64(now.UnixNano()), b)
}

// batchTime is when a batch id of newBatchID was made; the zero time for
// an id of another form (a test's or a tool's), which then bounds nothing.
// Only ids that tickets vouch for reach the store, so it cannot be forged.
func batchTime(batchID string) time.Time {
	if len(batchID) < 16 {
		return time.Time{}
	}
	ns, err := strconv.ParseUint(batchID[:16], 16, 64)
	if err != nil || ns > math.MaxInt64 {
		return time.Time{}
	}
	return time.Unix(0, int64(ns))
}
