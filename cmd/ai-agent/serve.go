package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"

	"github.com/rancher/ai-agent/internal/agent"
	"github.com/rancher/ai-agent/internal/agents"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/logging"
	"github.com/rancher/ai-agent/internal/oauth"
	"github.com/rancher/ai-agent/internal/rancher"
	"github.com/rancher/ai-agent/internal/server"
	"github.com/rancher/ai-agent/internal/store"
)

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", ":8000", "address to listen on")
	config := fs.String("config", "", "file of AIAgentConfig and Secret objects (multi-document YAML)")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the cluster to read AIAgentConfigs from")
	script := fs.String("script", "", "play back this script with the scripted model (YAML or JSON list of rancher-ai-llm-mock push bodies)")
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
		return errors.New("reading agents from the cluster is not available in this build yet: use --config FILE")
	default:
		return errors.New("no agents: give --config FILE (or --kubeconfig)")
	}

	model, extra, err := chooseModel(e, *script)
	if err != nil {
		return err
	}
	if e.RancherURL == "" && e.RancherAPIToken == "" {
		return errors.New("RANCHER_URL is required to resolve users (or RANCHER_API_TOKEN with RANCHER_URL for development)")
	}
	users := rancher.NewUserResolver(rancher.UserOptions{RancherURL: e.RancherURL, APIToken: e.RancherAPIToken, Logger: log})
	var oauthKey []byte
	if e.OAuthKey != "" {
		if oauthKey, err = oauth.ParseKey(e.OAuthKey); err != nil {
			return fmt.Errorf("OAUTH_ENCRYPTION_KEY: %w", err)
		}
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	a := &app{env: e, log: log, model: model, source: source, store: store.NewMemory(), extra: extra, oauthKey: oauthKey,
		users: server.UserResolverFunc(func(ctx context.Context, r *http.Request) (agent.User, error) {
			u, err := users.Resolve(ctx, r)
			return agent.User{ID: u.ID, Token: u.Token}, err
		})}
	return a.run(ctx, ln, nil)
}

// chooseModel returns the model that ACTIVE_LLM (or --script) selects and
// the extra routes it serves.
func chooseModel(e env, script string) (llm.Model, map[string]http.Handler, error) {
	if script == "" && e.ActiveLLM != "scripted" {
		if e.ActiveLLM == "" {
			return nil, nil, errors.New("LLM not configured: set ACTIVE_LLM (this build supports ACTIVE_LLM=scripted, or --script FILE)")
		}
		return nil, nil, fmt.Errorf("ACTIVE_LLM=%q: provider not available in this build (use ACTIVE_LLM=scripted or --script FILE)", e.ActiveLLM)
	}
	m := llm.NewScripted()
	if script != "" {
		f, err := os.Open(script)
		if err != nil {
			return nil, nil, fmt.Errorf("script: %w", err)
		}
		defer f.Close()
		entries, err := llm.ParseScript(f)
		if err != nil {
			return nil, nil, fmt.Errorf("script %s: %w", script, err)
		}
		m.Push(entries...)
	}
	return m, map[string]http.Handler{"/v1/control/": m.ControlHandler()}, nil
}
