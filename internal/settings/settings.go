// Package settings serves PUT /v1/api/settings (ui-protocol.md §3.2): the
// UI's LLM settings page writes the provider selection to ConfigMap
// llm-config and the credentials to Secret llm-secret through it.
//
// Unlike the Python agent it writes every known key (not only keys already
// present), never echoes a secret value back, and checks with a
// SubjectAccessReview that the calling Rancher user may update Secrets in
// the namespace before touching anything.
package settings

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	authv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/rancher/ai-agent/internal/httpapi"
	"github.com/rancher/ai-agent/internal/rancher"
)

// Names of the objects the settings live in.
const (
	ConfigMapName = "llm-config"
	SecretName    = "llm-secret"
)

// configKeys go to the ConfigMap; the UI reads them through Steve. The key
// lists are functions so that no caller can change them for everyone.
func configKeys() []string {
	return []string{"ACTIVE_LLM", "OLLAMA_MODEL", "GEMINI_MODEL", "OPENAI_MODEL", "BEDROCK_MODEL", "GENERIC_OPENAI_MODEL"}
}

// secretKeys go to the Secret.
func secretKeys() []string {
	return []string{"OPENAI_API_KEY", "OPENAI_URL", "OLLAMA_URL", "GOOGLE_API_KEY", "LANGFUSE_HOST",
		"LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY", "AWS_REGION", "AWS_BEARER_TOKEN_BEDROCK",
		"GENERIC_OPENAI_URL", "GENERIC_OPENAI_API_KEY"}
}

// sensitive keys are never returned to the client.
func sensitive(k string) bool {
	switch k {
	case "OPENAI_API_KEY", "GOOGLE_API_KEY", "LANGFUSE_SECRET_KEY", "AWS_BEARER_TOKEN_BEDROCK", "GENERIC_OPENAI_API_KEY":
		return true
	}
	return false
}

// required lists, per ACTIVE_LLM, the keys that must not be empty.
func required(llm string) ([]string, bool) {
	switch llm {
	case "ollama":
		return []string{"OLLAMA_URL", "OLLAMA_MODEL"}, true
	case "bedrock":
		// No API key needed: without AWS_BEARER_TOKEN_BEDROCK the agent
		// signs with the pod's AWS credentials (keys from the chart, EKS
		// IRSA or pod identity, an instance role).
		return []string{"AWS_REGION", "BEDROCK_MODEL"}, true
	case "openai":
		return []string{"OPENAI_API_KEY", "OPENAI_MODEL"}, true
	case "generic-openai":
		return []string{"GENERIC_OPENAI_API_KEY", "GENERIC_OPENAI_URL", "GENERIC_OPENAI_MODEL"}, true
	case "gemini":
		return []string{"GOOGLE_API_KEY", "GEMINI_MODEL"}, true
	}
	return nil, false
}

// Errors of apply; the handler maps them to HTTP statuses.
var (
	ErrForbidden = errors.New("settings: not allowed to update secrets")
	ErrInvalid   = errors.New("settings: invalid")
)

// Options configure the handler.
type Options struct {
	// Client writes ConfigMaps, Secrets and SubjectAccessReviews directly
	// (not through a cache: the agent does not watch ConfigMaps).
	Client client.Client
	// Namespace of llm-config and llm-secret.
	Namespace string
	// User returns the Rancher user id (e.g. u-abcde) behind the request,
	// which is the user name Rancher's RBAC knows in the local cluster.
	User func(r *http.Request) (string, error)
	// Logger defaults to slog.Default().
	Logger *slog.Logger
}

// Handler serves PUT /v1/api/settings.
func Handler(o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, err := o.User(r)
		if err != nil || user == "" {
			httpapi.WriteJSON(w, http.StatusUnauthorized, map[string]string{"detail": "unauthenticated"})
			return
		}
		var body map[string]string
		if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body); err != nil {
			httpapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"detail": "body must be a JSON object of strings"})
			return
		}
		out, err := apply(r.Context(), o.Client, o.Namespace, user, body)
		switch {
		case errors.Is(err, ErrForbidden):
			httpapi.WriteJSON(w, http.StatusForbidden, map[string]string{"detail": "you may not change the AI agent settings"})
		case errors.Is(err, ErrInvalid):
			httpapi.WriteJSON(w, http.StatusBadRequest, map[string]string{"detail": err.Error()})
		case err != nil:
			o.Logger.Error("settings update failed", "user", user, "error", err)
			httpapi.WriteJSON(w, http.StatusInternalServerError, map[string]string{"detail": "could not save the settings"})
		default:
			httpapi.WriteJSON(w, http.StatusOK, out)
		}
	})
}

// apply checks the user's right, validates body and writes it. It returns
// the saved values without the sensitive ones.
func apply(ctx context.Context, c client.Client, ns, user string, body map[string]string) (map[string]string, error) {
	if err := authorize(ctx, c, ns, user); err != nil {
		return nil, err
	}
	if err := validate(body); err != nil {
		return nil, err
	}
	out := map[string]string{}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ConfigMapName, Namespace: ns}}
		return upsert(ctx, c, cm, func() {
			if cm.Data == nil {
				cm.Data = map[string]string{}
			}
			for _, k := range configKeys() {
				if v, ok := body[k]; ok {
					cm.Data[k] = v
				}
				out[k] = cm.Data[k]
			}
		})
	})
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", ConfigMapName, err)
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
		sec := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: SecretName, Namespace: ns}}
		return upsert(ctx, c, sec, func() {
			if sec.Data == nil {
				sec.Data = map[string][]byte{}
			}
			for _, k := range secretKeys() {
				if v, ok := body[k]; ok {
					sec.Data[k] = []byte(v)
				}
				if !sensitive(k) {
					out[k] = string(sec.Data[k])
				}
			}
		})
	})
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", SecretName, err)
	}
	return out, nil
}

// authorize asks the API server (a SubjectAccessReview) whether user may
// update Secrets in ns.
func authorize(ctx context.Context, c client.Client, ns, user string) error {
	err := rancher.SubjectAccessReviews{Client: c}.Allow(ctx, rancher.User{ID: user},
		authv1.ResourceAttributes{Verb: "update", Resource: "secrets", Namespace: ns})
	if errors.Is(err, rancher.ErrForbidden) {
		return fmt.Errorf("%w: %w", ErrForbidden, err)
	}
	return err
}

// validate rejects unknown keys and a provider without its required values.
func validate(body map[string]string) error {
	for k := range body {
		if !slices.Contains(configKeys(), k) && !slices.Contains(secretKeys(), k) {
			return fmt.Errorf("%w: unknown setting %q", ErrInvalid, k)
		}
	}
	llm := body["ACTIVE_LLM"]
	if llm == "" {
		return nil
	}
	keys, ok := required(llm)
	if !ok {
		return fmt.Errorf("%w: ACTIVE_LLM %q is not one of ollama, openai, gemini, bedrock, generic-openai", ErrInvalid, llm)
	}
	var missing []string
	for _, k := range keys {
		if strings.TrimSpace(body[k]) == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: %s needs %s", ErrInvalid, llm, strings.Join(missing, ", "))
	}
	return nil
}

// upsert gets obj, applies mutate and updates it, creating it when missing.
func upsert(ctx context.Context, c client.Client, obj client.Object, mutate func()) error {
	err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj)
	if apierrors.IsNotFound(err) {
		mutate()
		return c.Create(ctx, obj)
	}
	if err != nil {
		return err
	}
	mutate()
	return c.Update(ctx, obj)
}
