package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/agents"
	"github.com/rancher/ai-agent/internal/controller"
	"github.com/rancher/ai-agent/internal/kube"
	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/rancher"
	"github.com/rancher/ai-agent/internal/server"
	"github.com/rancher/ai-agent/internal/settings"
)

// syncTimeout bounds the wait for the first list of agents and Secrets; a
// missing CRD or RBAC rule fails startup instead of hanging it.
const syncTimeout = time.Minute

// kubeRuntime is the agents.Source of a cluster plus the controller-runtime
// manager that feeds its cache, so that serve can add the controller to the
// same cache once the MCP manager and OAuth service exist.
type kubeRuntime struct {
	*kube.Source
	mgr    manager.Manager
	cfg    *rest.Config
	getenv func(string) string
	log    *slog.Logger
	// rancherHC trusts Rancher's CA (internal-cacerts) when it came from
	// the cluster's settings.
	rancherHC *http.Client
}

// kubeAgents reads the agents from the cluster (in cluster, or kubeconfig):
// it starts an informer cache of AIAgentConfigs and Secrets in
// cattle-ai-agent-system, waits for it to sync and returns a Source that
// reads only the cache. The cache runs until ctx ends.
func kubeAgents(ctx context.Context, getenv func(string) string, kubeconfig string, log *slog.Logger) (agents.Source, error) {
	cfg, err := restConfig(kubeconfig)
	if err != nil {
		return nil, err
	}
	return startKube(ctx, cfg, getenv, log)
}

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
		}
		return cfg, nil
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("in-cluster config: %w", err)
	}
	return cfg, nil
}

// startKube starts the manager (cache, and later the leader-elected
// controller) and waits for the cache. LEADER_ELECT=true turns on leader
// election, which several replicas need; the chart sets it.
func startKube(ctx context.Context, cfg *rest.Config, getenv func(string) string, log *slog.Logger) (*kubeRuntime, error) {
	scheme, err := kube.NewScheme()
	if err != nil {
		return nil, err
	}
	leader, err := boolEnv(getenv, "LEADER_ELECT")
	if err != nil {
		return nil, err
	}
	mgr, err := manager.New(cfg, manager.Options{
		Scheme:                        scheme,
		Cache:                         kube.CacheOptions(scheme, agents.Namespace),
		Logger:                        logr.FromSlogHandler(log.Handler()),
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		LeaderElection:                leader,
		LeaderElectionID:              "rancher-ai-agent-controller",
		LeaderElectionNamespace:       agents.Namespace,
		LeaderElectionReleaseOnCancel: true,
	})
	if err != nil {
		return nil, fmt.Errorf("kube manager: %w", err)
	}
	if err := kube.IndexSecretRefs(ctx, mgr.GetFieldIndexer()); err != nil {
		return nil, err
	}
	c := mgr.GetCache()
	if _, err := c.GetInformer(ctx, &v1alpha1.AIAgentConfig{}); err != nil {
		return nil, fmt.Errorf("watch AIAgentConfigs (is the CRD installed?): %w", err)
	}
	if _, err := c.GetInformer(ctx, &corev1.Secret{}); err != nil {
		return nil, fmt.Errorf("watch Secrets: %w", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- mgr.Start(ctx) }()
	sctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	if !c.WaitForCacheSync(sctx) {
		select {
		case err := <-errc:
			return nil, fmt.Errorf("kube cache: %w", err)
		default:
		}
		return nil, fmt.Errorf("kube cache did not sync within %s (RBAC for AIAgentConfigs and Secrets in %s?): %w",
			syncTimeout, agents.Namespace, errors.Join(sctx.Err(), ctx.Err()))
	}
	log.Info("reading agents from the cluster", "namespace", agents.Namespace, "leaderElection", leader)
	return &kubeRuntime{Source: kube.NewSource(c, agents.Namespace), mgr: mgr, cfg: cfg, getenv: getenv, log: log}, nil
}

// kubeWiring is what serve hands to the cluster side once the MCP manager
// and the OAuth service exist.
type kubeWiring struct {
	// Forget is told when an agent changes or goes away, on every replica
	// (mcp.Manager and oauth.Service implement it).
	Forget []controller.Forgetter
	// OAuth registers OAUTH2 agents' clients; nil skips it.
	OAuth controller.OAuthRegistrar
	// RancherURL and RancherToken are the service's own Rancher identity
	// for checking RANCHER agents (RANCHER_URL, RANCHER_API_TOKEN).
	RancherURL, RancherToken string
	// InsecureSkipTLS and MCPURL are the MCP options of the process.
	InsecureSkipTLS bool
	MCPURL          string
}

// startKubeController wires a cluster Source to the rest of the process: it
// drops cached sessions when an agent or its Secret changes, and adds the
// leader-elected controller (status, OAuth registration, built-ins) to the
// running manager. It does nothing for other sources, so serve may call it
// unconditionally: `if err := startKubeController(ctx, a.source, w); err != nil { return err }`.
func startKubeController(ctx context.Context, src agents.Source, w kubeWiring) error {
	kr, ok := src.(*kubeRuntime)
	if !ok {
		return nil
	}
	forget := func(name string) {
		for _, f := range w.Forget {
			f.Forget(name)
		}
	}
	if err := kube.Notify(ctx, kr.mgr.GetCache(), kr.Source, forget); err != nil {
		return err
	}
	probes := mcp.NewManager(mcp.Options{Logger: kr.log, InsecureSkipTLS: w.InsecureSkipTLS, RancherMCPURL: w.MCPURL, Timeout: 20 * time.Second})
	go func() { <-ctx.Done(); _ = probes.Close() }()
	return controller.Setup(kr.mgr, controller.Options{
		Namespace: agents.Namespace,
		Agents:    kr.Source,
		Prober:    controller.MCPProber{Manager: probes, Rancher: mcp.RancherIdentity{Token: w.RancherToken, URL: w.RancherURL}},
		OAuth:     w.OAuth,
		Forget:    append([]controller.Forgetter{probes}, w.Forget...),
		Builtins: controller.BuiltinOptions{
			MCPURL: kr.getenv("BUILTIN_MCP_URL"), CASecret: kr.getenv("BUILTIN_CA_SECRET"), CAKey: kr.getenv("BUILTIN_CA_KEY"),
		},
		Logger: kr.log,
	})
}

// kubeRoutes gives, for a cluster source, the routes that need the cluster
// (PUT /v1/api/settings, behind the user check) and the per-user agent
// filter (Rancher RBAC through Steve, RBAC_ENABLED, default on, failing
// closed). Other sources get neither.
func kubeRoutes(src agents.Source, e env) (map[string]http.Handler, func(context.Context, agent.User, []agents.Agent) ([]agents.Agent, error), error) {
	kr, ok := src.(*kubeRuntime)
	if !ok {
		return nil, nil, nil
	}
	scheme, err := kube.NewScheme()
	if err != nil {
		return nil, nil, err
	}
	c, err := client.New(kr.cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, nil, fmt.Errorf("kube client: %w", err)
	}
	routes := map[string]http.Handler{"PUT /v1/api/settings": settings.Handler(settings.Options{
		Client: c, Namespace: agents.Namespace, Logger: kr.log,
		User: func(r *http.Request) (string, error) {
			u, ok := server.UserFrom(r.Context())
			if !ok {
				return "", errors.New("no user")
			}
			return u.ID, nil
		},
	})}
	if !e.RBACEnabled {
		kr.log.Warn("RBAC_ENABLED=false: every user may use every agent")
		return routes, nil, nil
	}
	hc := rancher.NewHTTPClient(nil)
	if kr.rancherHC != nil {
		hc = kr.rancherHC
	} else if e.InsecureSkipTLS {
		hc = rancher.NewHTTPClient(&tls.Config{InsecureSkipVerify: true}) //nolint:gosec // INSECURE_SKIP_TLS
	}
	f, err := rancher.NewAgentFilter(e.RancherURL, hc)
	if err != nil {
		return nil, nil, fmt.Errorf("RBAC filter (set RANCHER_URL, or RBAC_ENABLED=false): %w", err)
	}
	return routes, func(ctx context.Context, u agent.User, list []agents.Agent) ([]agents.Agent, error) {
		return f.Filter(ctx, u.Token, list)
	}, nil
}

// rancherFromCluster finds Rancher when RANCHER_URL is not set: the
// internal-server-url setting, trusting the internal-cacerts CA (added to
// the system pool). Only for a cluster source.
func rancherFromCluster(ctx context.Context, src agents.Source, insecure bool) (string, *http.Client, error) {
	kr, ok := src.(*kubeRuntime)
	if !ok {
		return "", nil, nil
	}
	c, err := client.New(kr.cfg, client.Options{})
	if err != nil {
		return "", nil, fmt.Errorf("kube client: %w", err)
	}
	url, ca, err := kube.RancherEndpoint(ctx, c)
	if err != nil {
		return "", nil, fmt.Errorf("set RANCHER_URL, or let the agent read Rancher's settings: %w", err)
	}
	tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: insecure} //nolint:gosec // INSECURE_SKIP_TLS
	if len(ca) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(ca) {
			return "", nil, errors.New("rancher setting internal-cacerts holds no PEM certificate")
		}
		tlsCfg.RootCAs = pool
	}
	kr.rancherHC = rancher.NewHTTPClient(tlsCfg)
	kr.log.Info("Rancher found from its settings", "url", url)
	return url, kr.rancherHC, nil
}

// rancherPublicURL is Rancher's server-url setting for a cluster source:
// the URL users' browsers open. It is "" for other sources, and when the
// cluster has no such setting (then RANCHER_URL stands in).
func rancherPublicURL(ctx context.Context, src agents.Source) string {
	kr, ok := src.(*kubeRuntime)
	if !ok {
		return ""
	}
	c, err := client.New(kr.cfg, client.Options{})
	if err == nil {
		var u string
		if u, err = kube.PublicURL(ctx, c); err == nil && u != "" {
			kr.log.Info("Rancher's public URL from its server-url setting", "url", u)
			return u
		}
	}
	kr.log.Info("Rancher's server-url setting is not readable: RANCHER_URL gives the allowed origin and the OAuth redirect URI", "error", err)
	return ""
}

// accessReviewer asks who may configure agents: a SubjectAccessReview to
// the cluster's API server for a cluster source, else a
// SelfSubjectAccessReview through Rancher as the user (hc, nil for the
// default client).
func accessReviewer(src agents.Source, rancherURL string, hc *http.Client) (rancher.AccessReviewer, error) {
	kr, ok := src.(*kubeRuntime)
	if !ok {
		return rancher.SelfSubjectAccessReviews{RancherURL: rancherURL, HTTPClient: hc}, nil
	}
	c, err := client.New(kr.cfg, client.Options{})
	if err != nil {
		return nil, fmt.Errorf("kube client: %w", err)
	}
	return rancher.SubjectAccessReviews{Client: c}, nil
}
