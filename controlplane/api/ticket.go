package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
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
