package mcp

import (
	"context"
	"errors"
	"net"
	"net/http"
	"syscall"
)

// Unreachable reports whether err is an outage of the MCP server rather
// than a fault of the agent's configuration: refused or reset connections,
// DNS failures, timeouts, and a gateway's 502, 503, 504 or 429. A retry
// later may succeed; the controller keeps such an agent Ready=Unknown and
// a chat shows it as "unknown" instead of "error".
func Unreachable(err error) bool {
	if err == nil {
		return false
	}
	if he, ok := errors.AsType[*HTTPStatusError](err); ok {
		switch he.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout, http.StatusTooManyRequests:
			return true
		}
	}
	var nerr net.Error
	var dns *net.DNSError
	var op *net.OpError
	return errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.As(err, &dns) || errors.As(err, &op) ||
		(errors.As(err, &nerr) && nerr.Timeout())
}
