//go:build !unix

package oauthtest

import "os"

func interruptSignal() os.Signal { return os.Kill }
