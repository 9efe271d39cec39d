package provider

import (
	"context"
	"maps"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/rancher/ai-agent/internal/llm"
)

// Each provider's URL variable, Bedrock's three included (upstream's
// BEDROCK_URL first, then the AWS SDK's service-specific and global
// endpoint variables), sends the model call to that endpoint: a private
// endpoint (PrivateLink, a gateway) on loopback sees the request.
func TestPrivateEndpointsReceiveTheCall(t *testing.T) {
	type hit struct{ path string }
	var mu sync.Mutex
	var hits []hit
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits = append(hits, hit{r.URL.Path})
		mu.Unlock()
		http.Error(w, "private endpoint reached", http.StatusTeapot)
	}))
	defer srv.Close()
	other := "http://127.0.0.1:1" // never dialled when a higher-precedence variable is set
	bedrock := map[string]string{"ACTIVE_LLM": "bedrock", "BEDROCK_MODEL": "m", "AWS_REGION": "eu-west-1", "AWS_BEARER_TOKEN_BEDROCK": "br-key"}
	for _, tc := range []struct {
		name, path string
		env        map[string]string
	}{
		{"BEDROCK_URL", "/model/m/converse-stream", envWith(bedrock, "BEDROCK_URL", srv.URL, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", other, "AWS_ENDPOINT_URL", other)},
		{"AWS_ENDPOINT_URL_BEDROCK_RUNTIME", "/model/m/converse-stream", envWith(bedrock, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME", srv.URL, "AWS_ENDPOINT_URL", other)},
		{"AWS_ENDPOINT_URL", "/model/m/converse-stream", envWith(bedrock, "AWS_ENDPOINT_URL", srv.URL)},
		{"OLLAMA_URL", "/api/chat", map[string]string{"ACTIVE_LLM": "ollama", "OLLAMA_MODEL": "m", "OLLAMA_URL": srv.URL}},
		{"OPENAI_URL", "/chat/completions", map[string]string{"ACTIVE_LLM": "openai", "OPENAI_MODEL": "m", "OPENAI_API_KEY": "k", "OPENAI_URL": srv.URL}},
		{"GENERIC_OPENAI_URL", "/chat/completions", map[string]string{"ACTIVE_LLM": "generic-openai", "GENERIC_OPENAI_MODEL": "m", "GENERIC_OPENAI_API_KEY": "k", "GENERIC_OPENAI_URL": srv.URL}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			hits = nil
			mu.Unlock()
			c, err := ConfigFromEnv(func(k string) string { return tc.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			c.Retry = fastRetry()
			m, err := New(c)
			if err != nil {
				t.Fatal(err)
			}
			var callErr error
			for _, err := range m.Stream(context.Background(), llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}) {
				if err != nil {
					callErr = err
					break
				}
			}
			if callErr == nil {
				t.Fatal("a 418 from the endpoint was not an error")
			}
			mu.Lock()
			defer mu.Unlock()
			if len(hits) == 0 || hits[0].path != tc.path {
				t.Fatalf("the private endpoint saw %+v, want a call to %s", hits, tc.path)
			}
		})
	}
}

// envWith is a copy of base with the key, value pairs kv set.
func envWith(base map[string]string, kv ...string) map[string]string {
	out := maps.Clone(base)
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}
