package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/rancher/ai-agent/internal/httpapi"
	"github.com/rancher/ai-agent/internal/outbound"
)

// Static model lists of GET /v1/api/llm/{provider}/models (upstream §2.3).
func openAIModels() []string {
	return []string{"gpt-5.4", "gpt-5", "gpt-5-turbo", "gpt-5-mini", "o3", "o3-mini", "o1", "o1-preview",
		"gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4-turbo", "gpt-4", "gpt-3.5-turbo"}
}

func geminiModels() []string {
	return []string{"gemini-3-flash-preview", "gemini-3.1-flash-lite-preview", "gemini-3.1-pro-preview",
		"gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-2.0-flash", "gemini-2.0-flash-lite"}
}

// CatalogOptions configures CatalogHandler.
type CatalogOptions struct {
	// Client fetches Ollama's tags. The URL comes from the user, so it
	// must refuse link-local and metadata addresses: the default is
	// outbound.NewClient's guarded client.
	Client *http.Client
	// BedrockClient fetches Bedrock's model list (default: Client).
	BedrockClient *http.Client
	// BedrockURL builds the control-plane URL for a region; nil means
	// https://bedrock.{region}.amazonaws.com. Tests inject a fake.
	BedrockURL func(region string) string
	// Timeout bounds each upstream call (default 2 s, as upstream).
	Timeout time.Duration
	Logger  *slog.Logger
}

// regionRe accepts AWS region names only, so a region can never change the
// host we send the bearer token to.
var regionRe = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d{1,2}$`)

// CatalogHandler serves GET /v1/api/llm/{provider}/models: a JSON array of
// model names, or {"detail": …} with 400 (bad provider or parameters), 401
// (Bedrock rejected the token) or 502 (upstream unreachable or failing). The
// caller mounts it behind user authentication. The Bedrock token arrives in
// the query string (the UI sends it so); the handler never logs the URL.
func CatalogHandler(o CatalogOptions) http.Handler {
	if o.Client == nil {
		o.Client = outbound.NewClient(outbound.Options{})
	}
	if o.BedrockClient == nil {
		o.BedrockClient = o.Client
	}
	if o.BedrockURL == nil {
		o.BedrockURL = func(region string) string { return "https://bedrock." + region + ".amazonaws.com" }
	}
	if o.Timeout <= 0 {
		o.Timeout = 2 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var models []string
		var err error
		switch p := r.PathValue("provider"); p {
		case ProviderOpenAI:
			models = openAIModels()
		case ProviderGemini:
			models = geminiModels()
		case ProviderGenericOpenAI:
			models = []string{}
		case ProviderOllama:
			models, err = ollamaTags(r.Context(), o, r.URL.Query().Get("url"))
		case ProviderBedrock:
			q := r.URL.Query()
			models, err = bedrockModels(r.Context(), o, q.Get("region"), q.Get("bearerToken"))
		default:
			err = &catalogError{http.StatusBadRequest, fmt.Sprintf("Unsupported LLM provider %q.", p)}
		}
		if err != nil {
			var ce *catalogError
			if !errors.As(err, &ce) {
				ce = &catalogError{http.StatusBadGateway, "Cannot list models."}
			}
			o.Logger.Info("listing models failed", "provider", r.PathValue("provider"), "status", ce.status, "error", err)
			httpapi.WriteJSON(w, ce.status, map[string]string{"detail": ce.detail})
			return
		}
		httpapi.WriteJSON(w, http.StatusOK, models)
	})
}

// catalogError carries the status and user-facing detail of a failure.
type catalogError struct {
	status int
	detail string
}

func (e *catalogError) Error() string { return fmt.Sprintf("%d: %s", e.status, e.detail) }

func ollamaTags(ctx context.Context, o CatalogOptions, raw string) ([]string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if raw == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &catalogError{http.StatusBadRequest, "A valid Ollama URL is required (url=http://host:11434)."}
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimRight(u.Path, "/") + "/api/tags"
	var body struct {
		Models []struct {
			Name  string `json:"name"`
			Model string `json:"model"`
		} `json:"models"`
	}
	if err := getJSON(ctx, o.Client, o.Timeout, u.String(), "", &body); err != nil {
		return nil, fmt.Errorf("ollama tags: %w", err)
	}
	out := make([]string, 0, len(body.Models))
	for _, m := range body.Models {
		name := m.Name
		if name == "" {
			name = m.Model
		}
		out = append(out, name)
	}
	return out, nil
}

func bedrockModels(ctx context.Context, o CatalogOptions, region, token string) ([]string, error) {
	if !regionRe.MatchString(region) {
		return nil, &catalogError{http.StatusBadRequest, "A valid AWS region is required (region=us-east-1)."}
	}
	if token == "" {
		return nil, &catalogError{http.StatusBadRequest, "A Bedrock API key is required (bearerToken)."}
	}
	var body struct {
		ModelSummaries []struct {
			ModelID string `json:"modelId"`
		} `json:"modelSummaries"`
	}
	err := getJSON(ctx, o.BedrockClient, o.Timeout, strings.TrimRight(o.BedrockURL(region), "/")+"/foundation-models", token, &body)
	var ue *upstreamStatus
	if errors.As(err, &ue) && ue.code == http.StatusUnauthorized {
		return nil, &catalogError{http.StatusUnauthorized, "Bedrock rejected the API key."}
	}
	if err != nil {
		return nil, fmt.Errorf("bedrock models: %w", err)
	}
	prefix := strings.SplitN(region, "-", 2)[0] + "."
	out := make([]string, 0, len(body.ModelSummaries))
	for _, m := range body.ModelSummaries {
		out = append(out, bedrockModelID(m.ModelID, prefix))
	}
	return out, nil
}

// bedrockModelID adds the cross-region inference prefix (us., eu., …) as
// upstream does, unless the id has one already or is an openai model.
func bedrockModelID(id, prefix string) string {
	for _, p := range []string{"us.", "eu.", "ap.", "ca.", "sa.", "af.", "me."} {
		if strings.HasPrefix(id, p) {
			return id
		}
	}
	if strings.HasPrefix(id, "openai") {
		return id
	}
	return prefix + id
}

type upstreamStatus struct{ code int }

func (e *upstreamStatus) Error() string { return fmt.Sprintf("upstream HTTP %d", e.code) }

// getJSON GETs target with an optional bearer token and decodes the body.
// Errors never include target (it may be user-supplied with credentials).
func getJSON(ctx context.Context, c *http.Client, timeout time.Duration, target, token string, v any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return errors.New("bad upstream URL")
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // drop the URL
		}
		return fmt.Errorf("upstream unreachable: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &upstreamStatus{resp.StatusCode}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(v); err != nil {
		return fmt.Errorf("upstream body: %w", err)
	}
	return nil
}
