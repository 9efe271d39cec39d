// Package citest says whether the test run is CI's, where a suite whose
// prerequisite is missing (PostgreSQL, the envtest binaries, helm, node,
// chromium, controller-gen) must fail instead of skipping. CI's entry point
// (.ci/run) sets CI=true; the value is read with strconv.ParseBool.
package citest
