package v1alpha1

// The deepcopy functions and the CRD are generated from the markers in this
// package; `go generate ./api/...` refreshes both, plus the chart's copy of
// the CRD (Helm cannot read files outside the chart). The chart keeps that
// copy under files/ and renders it from templates/crds/ as a release
// resource with helm.sh/resource-policy: keep, as the Python agent's chart
// did, so that an upgrade from that chart keeps the CRD and every
// AIAgentConfig. TestGeneratedUpToDate fails when any of them is stale.
//
//go:generate go run sigs.k8s.io/controller-tools/cmd/controller-gen@v0.23.0 object crd:crdVersions=v1 paths=. output:object:dir=. output:crd:dir=../../config/crd
//go:generate cp ../../config/crd/ai.cattle.io_aiagentconfigs.yaml ../../chart/ai-agent/files/crds/ai.cattle.io_aiagentconfigs.yaml
