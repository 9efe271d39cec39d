package ranchertest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	authv1 "k8s.io/api/authorization/v1"

	"github.com/rancher/ai-agent/internal/rancher"
)

// SelfSubjectAccessReviews answers POST rancher.SelfSubjectAccessPath as
// Rancher's proxy of the local cluster does (201 with the review and its
// status). It requires the user's session as bearer ("tok-<name>", user
// "u-<name>", the tests' convention), a JSON SelfSubjectAccessReview, and
// resourceAttributes asking to update aiagentconfigs.ai.cattle.io in
// cattle-ai-agent-system; allowed is admin(user). Anything else fails the
// test and is refused.
func SelfSubjectAccessReviews(t testing.TB, admin func(user string) bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if r.Method != http.MethodPost || r.URL.Path != rancher.SelfSubjectAccessPath || !ok || !strings.HasPrefix(token, "tok-") ||
			r.Header.Get("Content-Type") != "application/json" {
			t.Errorf("self subject access review: %s %s with Authorization %q, Content-Type %q",
				r.Method, r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type"))
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var review authv1.SelfSubjectAccessReview
		if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Kind != "SelfSubjectAccessReview" ||
			review.APIVersion != "authorization.k8s.io/v1" || review.Spec.ResourceAttributes == nil {
			t.Errorf("self subject access review body: %+v, %v", review, err)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		want := authv1.ResourceAttributes{Verb: "update", Group: "ai.cattle.io", Resource: "aiagentconfigs", Namespace: "cattle-ai-agent-system"}
		if got := *review.Spec.ResourceAttributes; got != want {
			t.Errorf("resourceAttributes = %+v, want %+v", got, want)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		review.Status.Allowed = admin("u-" + strings.TrimPrefix(token, "tok-"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(review)
	}
}
