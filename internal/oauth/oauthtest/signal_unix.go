//go:build unix

package oauthtest

import (
	"os"
	"syscall"
)

func interruptSignal() os.Signal { return syscall.SIGTERM }
