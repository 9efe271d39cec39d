// Package leakcheck is the TestMain of the packages whose tests must leave
// no goroutine behind (go.uber.org/goleak), with the few goroutines that
// are not ours listed once: a dependency's init-time worker and the
// server side of the go-sdk MCP servers that tests start.
package leakcheck
