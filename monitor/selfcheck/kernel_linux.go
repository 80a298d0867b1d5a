package selfcheck

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// kernelState reads the kernel's NTP state without changing it (modes 0).
func kernelState() (bool, time.Duration, error) {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return false, 0, fmt.Errorf("adjtimex: %w", err)
	}
	off := time.Duration(tx.Offset) * time.Microsecond
	if tx.Status&unix.STA_NANO != 0 {
		off = time.Duration(tx.Offset)
	}
	return state != unix.TIME_ERROR && tx.Status&unix.STA_UNSYNC == 0, off, nil
}
