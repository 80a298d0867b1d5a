//go:build !linux

package main

import "os/exec"

// dieWithParent has no kernel support here: the children are stopped by
// dev's own shutdown only.
func dieWithParent(cmd *exec.Cmd) {}
