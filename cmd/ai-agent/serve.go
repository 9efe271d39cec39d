package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/logging"
	"github.com/rancher/ai-agent/internal/rancher"
	"github.com/rancher/ai-agent/internal/server"
	"github.com/rancher/ai-agent/internal/uitools"
)

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return serveAt(ctx, nil, args, getenv, stdout, stderr)
}

// serveAt is serve with the clock of OAuth token lifetimes (nil: time.Now);
// tests move it past a token's expiry instead of waiting.
func serveAt(ctx context.Context, now func() time.Time, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return serveWith(ctx, serveDeps{now: now}, args, getenv, stdout, stderr)
}

// serveDeps are what tests inject into serve: the clock of OAuth token
// lifetimes (nil: time.Now) and the resolver of every outbound client
// (nil: the system's; tests map names such as model.test to loopback so
// that a proxy is used, since Go never proxies a loopback URL).
type serveDeps struct {
	now     func() time.Time
	resolve func(ctx context.Context, host string) ([]netip.Addr, error)
}

func serveWith(ctx context.Context, deps serveDeps, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	now := deps.now
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", ":8000", "address to listen on")
	config := fs.String("config", "", "file of AIAgentConfig and Secret objects (multi-document YAML)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the cluster to read AIAgentConfigs from")
	script := fs.String("script", "", "play back this script with the scripted model (YAML or JSON list of rancher-ai-llm-mock push bodies)")
	uiToolsFile := fs.String("ui-tools", "", "UI tools document (the data.config JSON of the rancher-ai-ui ConfigMap)")
	metricsListen := fs.String("metrics-listen", ":9090", "address of the Prometheus /metrics listener (separate from --listen; empty: none)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: ai-agent serve [flags]\n\nflags:\n")
		fs.PrintDefaults()
		printEnvHelp(fs.Output())
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *config != "" && *kubeconfig != "" {
		return usageError{"--config and --kubeconfig exclude each other: agents come from one file or one cluster; give one of them"}
	}
	e, err := readEnv(getenv)
	if err != nil {
		return err
	}
	se, err := readServeEnv(getenv)
	if err != nil {
		return err
	}
	log := logging.New(stdout, e.LogLevel, e.LogFormat)
	log.Info("ai-agent starting", "version", buildVersion())
	e.Network.Resolve = deps.resolve
	se.Cluster.Network, se.Provider.Network, se.Telemetry.Proxy = e.Network, e.Network, e.Network.ProxyFunc()

	var source agentconfig.Source
	var cl *cluster // nil unless the agents come from a cluster
	switch {
	case *config != "":
		fsrc, err := agentconfig.LoadFile(*config)
		if err != nil {
			return err
		}
		source = fsrc
	case *kubeconfig != "" || se.InCluster:
		if cl, err = startCluster(ctx, *kubeconfig, se.Cluster, log); err != nil {
			return err
		}
		source = cl
	default:
		return errors.New("no agents: give --config FILE (or --kubeconfig)")
	}

	model, extra, err := chooseModel(e, se, *script)
	if err != nil {
		return err
	}
	var rancherHC *http.Client
	if e.RancherURL == "" && cl != nil {
		if e.RancherURL, rancherHC, err = cl.rancher(ctx, e.InsecureSkipTLS); err != nil {
			return err
		}
	}
	if e.RancherURL == "" {
		return errors.New("RANCHER_URL is required to resolve users (in a cluster it is read from Rancher's internal-server-url setting)")
	}
	if rancherHC == nil { // RANCHER_URL given: the system roots, through the proxy
		var tlsCfg *tls.Config
		if e.InsecureSkipTLS {
			tlsCfg = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // INSECURE_SKIP_TLS
		}
		rancherHC = rancher.NewHTTPClientVia(tlsCfg, e.Network)
	}
	users := rancher.NewUserResolver(rancher.UserOptions{RancherURL: e.RancherURL, APIToken: e.RancherAPIToken, Logger: log, HTTPClient: rancherHC})
	keys, err := oauthKeys(e, se, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var uiTools *uitools.Registry
	if *uiToolsFile != "" {
		if uiTools, err = uitools.LoadFile(*uiToolsFile); err != nil {
			return err
		}
	}
	st, engine, err := openStore(ctx, se, log)
	if err != nil {
		return err
	}
	defer st.Close()
	tel, stopTelemetry, err := startTelemetry(ctx, se.Telemetry, *metricsListen, log)
	if err != nil {
		return err
	}
	defer stopTelemetry()
	var publicURL string
	if cl != nil {
		publicURL = cl.publicURL(ctx)
	}
	var modelName string // the provider's model setting, for telemetry
	if se.ProviderErr == nil {
		modelName = se.Provider.Model
	}
	a := &app{env: e, log: log, model: model, modelName: modelName, tel: tel, source: source, cluster: cl, store: st, extra: extra,
		oauthKeys: keys, uiTools: uiTools, engine: engine, publicURL: publicURL, rancherHC: rancherHC, now: now,
		users: server.UserResolverFunc(func(ctx context.Context, r *http.Request) (agent.User, error) {
			u, err := users.Resolve(ctx, r)
			return agent.User{ID: u.ID, Token: u.Token}, err
		})}
	return a.run(ctx, ln, nil)
}
