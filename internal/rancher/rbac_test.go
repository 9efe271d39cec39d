package rancher_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	authv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/kube/kubetest"
	"github.com/rancher/ai-agent/internal/rancher"
)

func names(list []agentconfig.Agent) []string {
	var out []string
	for _, a := range list {
		out = append(out, a.Name)
	}
	return out
}

// fakeSteve lists AIAgentConfigs the way Steve does for a session: it maps
// the R_SESS cookie to a user and keeps the objects the API server's RBAC
// lets that user get (asked with SubjectAccessReviews).
func fakeSteve(t *testing.T, env *kubetest.Env, sessions map[string]string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var user string
		c, err := r.Cookie(rancher.SessionCookie)
		if err == nil {
			user = sessions[c.Value]
		}
		if user == "" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/v1/ai.cattle.io.aiagentconfigs/"+agentconfig.Namespace {
			http.NotFound(w, r)
			return
		}
		var list v1alpha1.AIAgentConfigList
		if err := env.Client.List(r.Context(), &list, client.InNamespace(agentconfig.Namespace)); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		var data []map[string]any
		for _, o := range list.Items {
			sar := &authv1.SubjectAccessReview{Spec: authv1.SubjectAccessReviewSpec{User: user,
				ResourceAttributes: &authv1.ResourceAttributes{Verb: "get", Group: v1alpha1.Group,
					Resource: v1alpha1.Resource, Namespace: agentconfig.Namespace, Name: o.Name}}}
			if err := env.Client.Create(r.Context(), sar); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			if sar.Status.Allowed {
				data = append(data, map[string]any{"id": o.Namespace + "/" + o.Name,
					"metadata": map[string]any{"name": o.Name, "namespace": o.Namespace}})
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"type": "collection", "data": data})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestFilterWithRealRBAC: a user sees only the agents RBAC lets them get.
func TestFilterWithRealRBAC(t *testing.T) {
	env := kubetest.Run(t, agentconfig.Namespace)
	ctx := t.Context()
	for _, n := range []string{"visible", "hidden"} {
		obj := &v1alpha1.AIAgentConfig{ObjectMeta: metav1.ObjectMeta{Name: n, Namespace: agentconfig.Namespace},
			Spec: v1alpha1.AIAgentConfigSpec{DisplayName: n}}
		if err := env.Client.Create(ctx, obj); err != nil {
			t.Fatal(err)
		}
	}
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "see-visible", Namespace: agentconfig.Namespace},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{v1alpha1.Group}, Resources: []string{v1alpha1.Resource},
			ResourceNames: []string{"visible"}, Verbs: []string{"get"}}}}
	binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "alice", Namespace: agentconfig.Namespace},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "see-visible"},
		Subjects: []rbacv1.Subject{{Kind: "User", APIGroup: "rbac.authorization.k8s.io", Name: "u-alice"}}}
	for _, o := range []client.Object{role, binding} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	steve := fakeSteve(t, env, map[string]string{"alice-token": "u-alice", "bob-token": "u-bob"})
	f, err := rancher.NewAgentFilter(steve.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	all := []agentconfig.Agent{{Name: "hidden"}, {Name: "visible"}}
	got, err := f.Filter(ctx, "alice-token", all)
	if err != nil || !slices.Equal(names(got), []string{"visible"}) {
		t.Fatalf("alice: %v, %v", names(got), err)
	}
	got, err = f.Filter(ctx, "bob-token", all)
	if err != nil || len(got) != 0 {
		t.Fatalf("bob: %v, %v", names(got), err)
	}
	if _, err := f.Filter(ctx, "stolen", all); !errors.Is(err, rancher.ErrRBAC) {
		t.Fatalf("unknown session: err = %v, want ErrRBAC", err)
	}
}

func TestFilterFailsClosed(t *testing.T) {
	all := []agentconfig.Agent{{Name: "a"}}
	for name, h := range map[string]http.HandlerFunc{
		"500":      func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "x", 500) },
		"bad json": func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("{")) },
		"foreign next page": func(w http.ResponseWriter, _ *http.Request) {
			_, _ = w.Write([]byte(`{"data":[],"pagination":{"next":"https://evil.example/v1/x"}}`))
		},
	} {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(h)
			defer srv.Close()
			f, err := rancher.NewAgentFilter(srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got, err := f.Filter(context.Background(), "tok", all); !errors.Is(err, rancher.ErrRBAC) || got != nil {
				t.Fatalf("Filter = %v, %v; want ErrRBAC", got, err)
			}
		})
	}
	f, _ := rancher.NewAgentFilter("http://127.0.0.1:1", nil)
	if _, err := f.Filter(context.Background(), "", all); !errors.Is(err, rancher.ErrRBAC) {
		t.Fatalf("no token: %v", err)
	}
	if _, err := f.Filter(context.Background(), "tok", all); !errors.Is(err, rancher.ErrRBAC) {
		t.Fatalf("unreachable: %v", err)
	}
}

func TestFilterFollowsPages(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("continue") == "" {
			_, _ = w.Write([]byte(`{"data":[{"metadata":{"name":"a","namespace":"` + agentconfig.Namespace + `"}}],"pagination":{"next":"` + srv.URL + r.URL.Path + `?continue=2"}}`))
			return
		}
		_, _ = w.Write([]byte(`{"data":[{"metadata":{"name":"b","namespace":"` + agentconfig.Namespace + `"}},{"metadata":{"name":"c","namespace":"elsewhere"}}]}`))
	}))
	defer srv.Close()
	f, _ := rancher.NewAgentFilter(srv.URL, nil)
	got, err := f.Filter(context.Background(), "tok", []agentconfig.Agent{{Name: "a"}, {Name: "b"}, {Name: "c"}})
	if err != nil || !slices.Equal(names(got), []string{"a", "b"}) {
		t.Fatalf("Filter = %v, %v", names(got), err)
	}
}
