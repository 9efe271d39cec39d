package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
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
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/controller"
	"github.com/rancher/ai-agent/internal/kube"
	"github.com/rancher/ai-agent/internal/mcp"
	"github.com/rancher/ai-agent/internal/outbound"
	"github.com/rancher/ai-agent/internal/rancher"
	"github.com/rancher/ai-agent/internal/server"
	"github.com/rancher/ai-agent/internal/settings"
)

// syncTimeout bounds the wait for the first list of agents and Secrets; a
// missing CRD or RBAC rule fails startup instead of hanging it.
const syncTimeout = time.Minute

// cluster is the process's Kubernetes side, built once by startCluster
// when serve reads its agents from a cluster (nil otherwise): the
// agentconfig.Source read from the controller-runtime manager's cache, the
// manager itself (the controller is added to it once the MCP manager and
// the OAuth service exist) and one direct client for what the cache does
// not hold (Rancher's settings, access reviews, PUT /v1/api/settings).
type cluster struct {
	*kube.Source
	mgr    manager.Manager
	client client.Client
	env    clusterEnv
	log    *slog.Logger
}

// startCluster reads the agents from the cluster (in cluster, or
// kubeconfig): see startKube.
func startCluster(ctx context.Context, kubeconfig string, e clusterEnv, log *slog.Logger) (*cluster, error) {
	cfg, err := restConfig(kubeconfig, e.Network)
	if err != nil {
		return nil, err
	}
	return startKube(ctx, cfg, e, log)
}

// restConfig reads the kubeconfig (its API server is reached through n's
// proxy unless the kubeconfig names its own proxy-url) or the in-cluster
// config, whose API server is never proxied: it is the cluster's own
// service, whatever NO_PROXY says.
func restConfig(kubeconfig string, n outbound.Network) (*rest.Config, error) {
	direct := func(*http.Request) (*url.URL, error) { return nil, nil }
	if kubeconfig != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: %w", kubeconfig, err)
		}
		if cfg.Proxy == nil {
			if cfg.Proxy = n.ProxyFunc(); cfg.Proxy == nil {
				cfg.Proxy = direct
			}
		}
		return cfg, nil
	}
	cfg, err := rest.InClusterConfig()
	if err != nil {
		return nil, fmt.Errorf("in-cluster config: %w", err)
	}
	cfg.Proxy = direct
	return cfg, nil
}

// startKube starts an informer cache of AIAgentConfigs and Secrets in
// cattle-ai-agent-system (the manager's, which later also runs the
// leader-elected controller) and waits for it to sync; the Source reads
// only the cache, which runs until ctx ends. LEADER_ELECT=true turns on
// leader election, which several replicas need; the chart sets it.
func startKube(ctx context.Context, cfg *rest.Config, e clusterEnv, log *slog.Logger) (*cluster, error) {
	if e.leaderElectErr != nil {
		return nil, e.leaderElectErr
	}
	leader := e.LeaderElect
	scheme, err := kube.NewScheme()
	if err != nil {
		return nil, err
	}
	direct, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("kube client: %w", err)
	}
	mgr, err := manager.New(cfg, manager.Options{
		Scheme:                        scheme,
		Cache:                         kube.CacheOptions(scheme, agentconfig.Namespace),
		Logger:                        logr.FromSlogHandler(log.Handler()),
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		LeaderElection:                leader,
		LeaderElectionID:              "rancher-ai-agent-controller",
		LeaderElectionNamespace:       agentconfig.Namespace,
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
			syncTimeout, agentconfig.Namespace, errors.Join(sctx.Err(), ctx.Err()))
	}
	log.Info("reading agents from the cluster", "namespace", agentconfig.Namespace, "leaderElection", leader)
	return &cluster{Source: kube.NewSource(c, agentconfig.Namespace), mgr: mgr, client: direct, env: e, log: log}, nil
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

// startController wires the cluster to the rest of the process: it drops
// cached sessions when an agent or its Secret changes, and adds the
// leader-elected controller (status, OAuth registration, built-ins) to the
// running manager.
func (cl *cluster) startController(ctx context.Context, w kubeWiring) error {
	forget := func(name string) {
		for _, f := range w.Forget {
			f.Forget(name)
		}
	}
	if err := kube.Notify(ctx, cl.mgr.GetCache(), cl.Source, forget); err != nil {
		return err
	}
	probes := mcp.NewManager(mcp.Options{Logger: cl.log, InsecureSkipTLS: w.InsecureSkipTLS, RancherMCPURL: w.MCPURL, Timeout: 20 * time.Second, Network: cl.env.Network})
	go func() { <-ctx.Done(); _ = probes.Close() }()
	return controller.Setup(cl.mgr, controller.Options{
		Namespace: agentconfig.Namespace,
		Agents:    cl.Source,
		Prober:    controller.MCPProber{Manager: probes, Rancher: mcp.RancherIdentity{Token: w.RancherToken, URL: w.RancherURL}},
		OAuth:     w.OAuth,
		Forget:    append([]controller.Forgetter{probes}, w.Forget...),
		Builtins:  cl.env.Builtins,
		Logger:    cl.log,
	})
}

// routes gives the routes that need the cluster (PUT /v1/api/settings,
// behind the user check) and the per-user agent filter (Rancher RBAC
// through Steve, RBAC_ENABLED, default on, failing closed). rancherHC
// reaches Rancher when it came from the cluster's settings (nil: the
// default client, or INSECURE_SKIP_TLS's).
func (cl *cluster) routes(e env, rancherHC *http.Client) (map[string]http.Handler, func(context.Context, agent.User, []agentconfig.Agent) ([]agentconfig.Agent, error), error) {
	routes := map[string]http.Handler{"PUT /v1/api/settings": settings.Handler(settings.Options{
		Client: cl.client, Namespace: agentconfig.Namespace, Logger: cl.log,
		User: func(r *http.Request) (string, error) {
			u, ok := server.UserFrom(r.Context())
			if !ok {
				return "", errors.New("no user")
			}
			return u.ID, nil
		},
	})}
	if !e.RBACEnabled {
		cl.log.Warn("RBAC_ENABLED=false: every user may use every agent")
		return routes, nil, nil
	}
	hc := rancher.NewHTTPClientVia(nil, e.Network)
	if rancherHC != nil {
		hc = rancherHC
	} else if e.InsecureSkipTLS {
		hc = rancher.NewHTTPClientVia(&tls.Config{InsecureSkipVerify: true}, e.Network) //nolint:gosec // INSECURE_SKIP_TLS
	}
	f, err := rancher.NewAgentFilter(e.RancherURL, hc)
	if err != nil {
		return nil, nil, fmt.Errorf("RBAC filter (set RANCHER_URL, or RBAC_ENABLED=false): %w", err)
	}
	return routes, func(ctx context.Context, u agent.User, list []agentconfig.Agent) ([]agentconfig.Agent, error) {
		return f.Filter(ctx, u.Token, list)
	}, nil
}

// rancher finds Rancher when RANCHER_URL is not set: the
// internal-server-url setting, and a client trusting the internal-cacerts
// CA (added to the system pool).
func (cl *cluster) rancher(ctx context.Context, insecure bool) (string, *http.Client, error) {
	url, ca, err := kube.RancherEndpoint(ctx, cl.client)
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
	cl.log.Info("Rancher found from its settings", "url", url)
	return url, rancher.NewHTTPClientVia(tlsCfg, cl.env.Network), nil
}

// publicURL is Rancher's server-url setting: the URL users' browsers
// open. It is "" when the cluster has no such setting (then RANCHER_URL
// stands in).
func (cl *cluster) publicURL(ctx context.Context) string {
	u, err := kube.PublicURL(ctx, cl.client)
	if err == nil && u != "" {
		cl.log.Info("Rancher's public URL from its server-url setting", "url", u)
		return u
	}
	cl.log.Info("Rancher's server-url setting is not readable: RANCHER_URL gives the allowed origin and the OAuth redirect URI", "error", err)
	return ""
}

// accessReviewer asks who may configure agents: a SubjectAccessReview to
// the cluster's API server.
func (cl *cluster) accessReviewer() rancher.AccessReviewer {
	return rancher.SubjectAccessReviews{Client: cl.client}
}
