package demo

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ScaleInput is the input of scaleDeployment and its plan.
type ScaleInput struct {
	Name      string `json:"name" jsonschema:"the deployment name"`
	Namespace string `json:"namespace,omitempty" jsonschema:"the namespace, default 'default'"`
	Replicas  int    `json:"replicas" jsonschema:"the wanted number of replicas"`
}

// addScale adds scaleDeployment, which changes the cluster and so needs the
// user's confirmation, and scaleDeploymentPlan, which says what it would do
// (the agent shows it as <confirmation-response>; the model never sees it).
func addScale(s *mcp.Server) {
	mcp.AddTool(s, &mcp.Tool{Name: "scaleDeployment", Description: "Scale a deployment of the demo cluster."},
		func(_ context.Context, _ *mcp.CallToolRequest, in ScaleInput) (*mcp.CallToolResult, any, error) {
			return jsonResult(map[string]any{
				"llm":      fmt.Sprintf("Scaled deployment %s/%s to %d replicas.", ns(in.Namespace), in.Name, in.Replicas),
				"docLinks": docLinks("Deployment"),
			}), nil, nil
		})
	mcp.AddTool(s, &mcp.Tool{Name: "scaleDeploymentPlan", Description: "What scaleDeployment would change."},
		func(_ context.Context, _ *mcp.CallToolRequest, in ScaleInput) (*mcp.CallToolResult, any, error) {
			patch := []map[string]any{{"op": "replace", "path": "/spec/replicas", "value": in.Replicas}}
			plan := []map[string]any{{
				"type":     "patch",
				"resource": map[string]string{"kind": "Deployment", "name": in.Name, "namespace": ns(in.Namespace), "cluster": "local"},
				"payload": map[string]any{"original": "spec:\n  replicas: 2\n", "patch": patch,
					"patched": fmt.Sprintf("spec:\n  replicas: %d\n", in.Replicas)},
			}}
			b, _ := json.Marshal(plan)
			return text(string(b)), nil, nil
		})
}

func ns(n string) string {
	if n == "" {
		return "default"
	}
	return n
}
