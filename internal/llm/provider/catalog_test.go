package provider

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rancher/ai-agent/internal/outbound"
)

func catalogGet(t *testing.T, h http.Handler, target string) (int, string) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /v1/api/llm/{provider}/models", h)
	rr := httptest.NewRecorder()
	mux.ServeHTTP(rr, httptest.NewRequest("GET", target, nil))
	return rr.Code, strings.TrimSpace(rr.Body.String())
}

func TestCatalogStaticAndErrors(t *testing.T) {
	h := CatalogHandler(CatalogOptions{})
	code, body := catalogGet(t, h, "/v1/api/llm/openai/models")
	var list []string
	if code != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list) != 14 || list[0] != "gpt-5.4" {
		t.Fatalf("openai %d %s", code, body)
	}
	if code, body = catalogGet(t, h, "/v1/api/llm/gemini/models"); code != 200 || !strings.Contains(body, `"gemini-2.5-flash"`) {
		t.Fatalf("gemini %d %s", code, body)
	}
	if code, body = catalogGet(t, h, "/v1/api/llm/generic-openai/models"); code != 200 || body != "[]" {
		t.Fatalf("generic %d %s", code, body)
	}
	for target, want := range map[string]int{
		"/v1/api/llm/claude/models":                                     400,
		"/v1/api/llm/ollama/models":                                     400,
		"/v1/api/llm/ollama/models?url=ftp://x":                         400,
		"/v1/api/llm/ollama/models?url=http://127.0.0.1:1":              502,
		"/v1/api/llm/bedrock/models?region=x.evil.com%23&bearerToken=t": 400,
		"/v1/api/llm/bedrock/models?region=us-east-1":                   400,
	} {
		code, body := catalogGet(t, h, target)
		var d map[string]string
		if code != want || json.Unmarshal([]byte(body), &d) != nil || d["detail"] == "" {
			t.Fatalf("%s: %d %s, want %d with detail", target, code, body, want)
		}
	}
}

func TestCatalogOllama(t *testing.T) {
	var rec recorder
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(t, r)
		if r.URL.Path != "/api/tags" {
			w.WriteHeader(404)
			return
		}
		_, _ = w.Write([]byte(`{"models":[{"name":"llama3:8b","model":"llama3:8b"},{"name":"qwen3:4b"}]}`))
	}))
	defer srv.Close()
	code, body := catalogGet(t, CatalogHandler(CatalogOptions{}), "/v1/api/llm/ollama/models?url="+srv.URL+"/")
	if code != 200 || body != `["llama3:8b","qwen3:4b"]` || rec.all()[0].path != "/api/tags" {
		t.Fatalf("%d %s", code, body)
	}
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer slow.Close()
	start := time.Now()
	code, _ = catalogGet(t, CatalogHandler(CatalogOptions{Timeout: 100 * time.Millisecond}), "/v1/api/llm/ollama/models?url="+slow.URL)
	if code != 502 || time.Since(start) > time.Second {
		t.Fatalf("slow ollama: %d after %v", code, time.Since(start))
	}
}

func TestCatalogBedrock(t *testing.T) {
	var rec recorder
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.add(t, r)
		if r.Header.Get("Authorization") != "Bearer good" {
			w.WriteHeader(401)
			return
		}
		_, _ = w.Write([]byte(`{"modelSummaries":[{"modelId":"anthropic.claude-3"},{"modelId":"us.meta.llama"},{"modelId":"openai.gpt-oss"}]}`))
	}))
	defer srv.Close()
	var gotRegion string
	h := CatalogHandler(CatalogOptions{BedrockURL: func(region string) string { gotRegion = region; return srv.URL }})
	code, body := catalogGet(t, h, "/v1/api/llm/bedrock/models?region=eu-west-1&bearerToken=good")
	if code != 200 || body != `["eu.anthropic.claude-3","us.meta.llama","openai.gpt-oss"]` || gotRegion != "eu-west-1" {
		t.Fatalf("%d %s region %s", code, body, gotRegion)
	}
	q := rec.all()[0]
	if q.path != "/foundation-models" || q.query != "" {
		t.Fatalf("upstream request %s?%s: the token must travel only in the header", q.path, q.query)
	}
	if code, body = catalogGet(t, h, "/v1/api/llm/bedrock/models?region=eu-west-1&bearerToken=bad"); code != 401 || strings.Contains(body, "bad") {
		t.Fatalf("bad token: %d %s", code, body)
	}
}

// TestCatalogRefusesMetadataAddress: by default the user-supplied Ollama
// URL goes through the guarded outbound client, which never dials a
// link-local (cloud metadata) address.
func TestCatalogRefusesMetadataAddress(t *testing.T) {
	var logs strings.Builder
	h := CatalogHandler(CatalogOptions{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	code, body := catalogGet(t, h, "/v1/api/llm/ollama/models?url=http://169.254.169.254/")
	if code != http.StatusBadGateway || !strings.Contains(body, "Cannot list models.") {
		t.Fatalf("%d %s", code, body)
	}
	if !strings.Contains(logs.String(), outbound.ErrBlockedAddress.Error()) {
		t.Fatalf("the refusal is not the outbound client's: %s", logs.String())
	}
}
