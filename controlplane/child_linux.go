package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill the child when dev dies, even by
// SIGKILL, so no CoreDNS or monitor is left behind as an orphan.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
