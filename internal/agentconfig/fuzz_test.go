package agentconfig

import (
	"bytes"
	"testing"
)

// FuzzParseConfig: any YAML (or JSON) stream is either refused with an
// error or yields agents that each have a name (the file never panics the
// server and never yields a nameless agent).
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"apiVersion: ai.cattle.io/v1alpha1\nkind: AIAgentConfig\nmetadata: {name: a, namespace: cattle-ai-agent-system}\nspec:\n  displayName: A\n  mcpURL: http://x/mcp\n  authenticationType: NONE\n",
		"apiVersion: ai.cattle.io/v1alpha1\nkind: AIAgentConfig\nmetadata: {name: gh}\nspec:\n  displayName: G\n  mcpURL: https://g\n  authenticationType: OAUTH2\n  authenticationSecret: s\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {clientID: YWJj}\n",
		"---\n---\n", "kind: Secret\n", "apiVersion: v1\nkind: List\n", "{\"kind\":\"AIAgentConfig\"}", "a: [\n", "\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := ParseConfig(bytes.NewReader(data), "fuzz.yaml")
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		for _, a := range list {
			if a.Name == "" {
				t.Fatalf("agent without a name from %q", data)
			}
		}
	})
}
