package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Resource is one object of the demo cluster inventory.
type Resource struct {
	Kind      string `json:"kind"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Status    string `json:"status"`
}

// inventory is the made-up cluster the demo tools read.
func inventory() []Resource {
	return []Resource{
		{"Pod", "web-7d4b9c-abcde", "default", "Running"},
		{"Pod", "web-7d4b9c-fghij", "default", "Running"},
		{"Pod", "db-0", "default", "CrashLoopBackOff"},
		{"Pod", "coredns-5d78c9869d-x2x9z", "kube-system", "Running"},
		{"Deployment", "web", "default", "2/2 ready"},
		{"Deployment", "coredns", "kube-system", "1/1 ready"},
		{"StatefulSet", "db", "default", "0/1 ready"},
	}
}

// ListInput is the input of listKubernetesResources.
type ListInput struct {
	Kind      string `json:"kind" jsonschema:"the resource kind, e.g. Pod or Deployment"`
	Namespace string `json:"namespace,omitempty" jsonschema:"the namespace; empty for all"`
	Cluster   string `json:"cluster,omitempty" jsonschema:"the cluster id, e.g. local"`
}

// AddInput is the input of add.
type AddInput struct {
	A float64 `json:"a" jsonschema:"the first number"`
	B float64 `json:"b" jsonschema:"the second number"`
}

// NewMCPServer returns the demo MCP server: listKubernetesResources,
// getPodLogs, scaleDeployment (with its plan, for human validation) and add. Results carry `llm` for the model and `uiContext`
// for the browser's resource buttons, as the Rancher MCP server does.
func NewMCPServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "demo-cluster", Version: "v1"}, nil)
	mcp.AddTool(s, &mcp.Tool{
		Name:        "listKubernetesResources",
		Description: "List the Kubernetes resources of a kind in the demo cluster, optionally in one namespace.",
	}, listResources)
	mcp.AddTool(s, &mcp.Tool{
		Name:        "getPodLogs",
		Description: "Get the last log lines of a pod in the demo cluster.",
	}, podLogs)
	addScale(s)
	mcp.AddTool(s, &mcp.Tool{Name: "add", Description: "Add two numbers."},
		func(_ context.Context, _ *mcp.CallToolRequest, in AddInput) (*mcp.CallToolResult, any, error) {
			return text(fmt.Sprintf("The sum of %g and %g is %g.", in.A, in.B, in.A+in.B)), nil, nil
		})
	return s
}

// Handler serves the demo MCP server over streamable HTTP.
func Handler() http.Handler {
	s := NewMCPServer()
	return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil)
}

func listResources(_ context.Context, _ *mcp.CallToolRequest, in ListInput) (*mcp.CallToolResult, any, error) {
	cluster := in.Cluster
	if cluster == "" {
		cluster = "local"
	}
	var found []Resource
	for _, r := range inventory() {
		if strings.EqualFold(r.Kind, in.Kind) && (in.Namespace == "" || r.Namespace == in.Namespace) {
			found = append(found, r)
		}
	}
	if len(found) == 0 {
		return text(fmt.Sprintf("No %s found.", in.Kind)), nil, nil
	}
	var lines []string
	byNS := map[string][]string{}
	for _, r := range found {
		lines = append(lines, fmt.Sprintf("%s/%s: %s", r.Namespace, r.Name, r.Status))
		byNS[r.Namespace] = append(byNS[r.Namespace], r.Name)
	}
	var ui []map[string]any
	for _, ns := range slices.Sorted(maps.Keys(byNS)) {
		ui = append(ui, map[string]any{
			"kind": found[0].Kind, "type": steveType(found[0].Kind), "name": byNS[ns],
			"namespace": ns, "cluster": cluster,
		})
	}
	return jsonResult(map[string]any{
		"llm":       fmt.Sprintf("%d %s in cluster %s:\n%s", len(found), in.Kind, cluster, strings.Join(lines, "\n")),
		"uiContext": ui,
		"docLinks":  docLinks(found[0].Kind),
	}), nil, nil
}

// LogsInput is the input of getPodLogs.
type LogsInput struct {
	Name      string `json:"name" jsonschema:"the pod name"`
	Namespace string `json:"namespace,omitempty" jsonschema:"the namespace, default 'default'"`
}

func podLogs(_ context.Context, _ *mcp.CallToolRequest, in LogsInput) (*mcp.CallToolResult, any, error) {
	if in.Name == "db-0" {
		return jsonResult(map[string]any{
			"llm":      "2026-11-26T10:00:01Z FATAL could not open data directory: permission denied\n2026-11-26T10:00:01Z exiting",
			"docLinks": docLinks("logs"),
		}), nil, nil
	}
	return text(fmt.Sprintf("2026-11-26T10:00:00Z %s: serving on :8080\n2026-11-26T10:00:05Z GET /healthz 200", in.Name)), nil, nil
}

func steveType(kind string) string {
	switch kind {
	case "Pod":
		return "pod"
	default:
		return "apps." + strings.ToLower(kind)
	}
}

// docLinks are the documentation links of a result about kind: the
// server's docLinks, which the agent sends as <mcp-doclink> frames (a link
// written in the model's text would reach the browser as text).
func docLinks(kind string) []string {
	if d := docs[kind]; d != "" {
		return []string{d}
	}
	return []string{}
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

func jsonResult(v any) *mcp.CallToolResult {
	b, _ := json.Marshal(v)
	return text(string(b))
}
