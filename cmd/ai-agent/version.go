package main

import (
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// version is the release, set at build time:
//
//	go build -ldflags "-X main.version=v1.2.3" ./cmd/ai-agent
//
// Empty, buildVersion falls back to what the Go toolchain recorded.
var version string //nolint:gochecknoglobals // set by the linker, never written at run time

// buildVersion is the version of this binary: the -ldflags value, else the
// module version Go recorded (a tagged `go install`), else the VCS revision
// (with "-dirty" for uncommitted changes), else "devel".
func buildVersion() string {
	return versionFrom(version, debug.ReadBuildInfo)
}

// versionFrom is buildVersion with its inputs passed in (tests).
func versionFrom(ldflags string, read func() (*debug.BuildInfo, bool)) string {
	if v := strings.TrimSpace(ldflags); v != "" {
		return v
	}
	bi, ok := read()
	if !ok || bi == nil {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return "devel-" + rev + dirty
}

// printVersion is `ai-agent version` and `ai-agent --version`.
func printVersion(w io.Writer) {
	goVersion := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
	}
	fmt.Fprintf(w, "ai-agent %s (%s)\n", buildVersion(), goVersion)
}
