//go:build nodemo

package main

import (
	"context"
	"errors"
	"io"
)

// The production image is built with -tags nodemo (Dockerfile): it links
// neither the demo's MCP and authorization servers (internal/demo) nor the
// load tool's fakes (internal/load). A plain go build keeps both commands.

var (
	errNoDemo = errors.New("this build has no demo; build without -tags nodemo to run it")
	errNoLoad = errors.New("this build has no load tool; build without -tags nodemo to run it")
)

func runDemo(context.Context, []string, func(string) string, io.Writer, io.Writer) error {
	return errNoDemo
}

func runLoad(context.Context, []string, io.Writer, io.Writer) error { return errNoLoad }
