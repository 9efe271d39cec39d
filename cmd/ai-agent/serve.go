package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/agents"
	"github.com/rancher/ai-agent/internal/logging"
	"github.com/rancher/ai-agent/internal/rancher"
	"github.com/rancher/ai-agent/internal/server"
	"github.com/rancher/ai-agent/internal/uitools"
)

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", ":8000", "address to listen on")
	config := fs.String("config", "", "file of AIAgentConfig and Secret objects (multi-document YAML)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the cluster to read AIAgentConfigs from")
	script := fs.String("script", "", "play back this script with the scripted model (YAML or JSON list of rancher-ai-llm-mock push bodies)")
	uiToolsFile := fs.String("ui-tools", "", "UI tools document (the data.config JSON of the rancher-ai-ui ConfigMap)")
	metricsListen := fs.String("metrics-listen", ":9090", "address of the Prometheus /metrics listener (separate from --listen; empty: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	e, err := readEnv(getenv)
	if err != nil {
		return err
	}
	log := logging.NewLogger(stdout, logging.ParseLevel(e.LogLevel))

	var source agents.Source
	switch {
	case *config != "":
		fsrc, err := agents.LoadFile(*config)
		if err != nil {
			return err
		}
		source = fsrc
	case *kubeconfig != "" || getenv("KUBERNETES_SERVICE_HOST") != "":
		ksrc, err := kubeAgents(ctx, getenv, *kubeconfig, log)
		if err != nil {
			return err
		}
		source = ksrc
	default:
		return errors.New("no agents: give --config FILE (or --kubeconfig)")
	}

	model, extra, err := chooseModel(e, getenv, *script)
	if err != nil {
		return err
	}
	var rancherHC *http.Client
	if e.RancherURL == "" {
		if e.RancherURL, rancherHC, err = rancherFromCluster(ctx, source, e.InsecureSkipTLS); err != nil {
			return err
		}
	}
	if e.RancherURL == "" {
		return errors.New("RANCHER_URL is required to resolve users (in a cluster it is read from Rancher's internal-server-url setting)")
	}
	users := rancher.NewUserResolver(rancher.UserOptions{RancherURL: e.RancherURL, APIToken: e.RancherAPIToken, Logger: log, HTTPClient: rancherHC})
	keys, err := oauthKeys(e, getenv, log)
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
	st, engine, err := openStore(ctx, getenv, log)
	if err != nil {
		return err
	}
	defer st.Close()
	tel, stopTelemetry, err := startTelemetry(ctx, getenv, *metricsListen, log)
	if err != nil {
		return err
	}
	defer stopTelemetry()
	a := &app{env: e, log: log, model: model, tel: tel, getenv: getenv, source: source, store: st, extra: extra, oauthKeys: keys, uiTools: uiTools,
		engine: engine, publicURL: rancherPublicURL(ctx, source), rancherHC: rancherHC,
		users: server.UserResolverFunc(func(ctx context.Context, r *http.Request) (agent.User, error) {
			u, err := users.Resolve(ctx, r)
			return agent.User{ID: u.ID, Token: u.Token}, err
		})}
	return a.run(ctx, ln, nil)
}
