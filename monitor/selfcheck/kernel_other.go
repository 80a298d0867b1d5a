//go:build !linux

package selfcheck

import (
	"errors"
	"time"
)

func kernelState() (bool, time.Duration, error) {
	return false, 0, errors.New("kernel clock state is read on Linux only: configure base servers")
}
