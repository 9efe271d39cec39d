package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentcheck"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/kube"
	"github.com/rancher/ai-agent/internal/oauth"
	"github.com/rancher/ai-agent/internal/outbound"
)

// errProblemsFound ends `validate` with exit status 1 once it has printed
// the problems.
var errProblemsFound = errors.New("problems found")

// runValidate is `ai-agent validate --config FILE` (or --kubeconfig FILE,
// or neither in a pod): it reads the agents and Secrets as serve would and
// prints one line per problem with the field and the fix, then a summary.
// Any problem is exit status 1.
func runValidate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", "", "file of AIAgentConfig and Secret objects (multi-document YAML) to check")
	kubeconfig := fs.String("kubeconfig", "", "kubeconfig of the cluster whose AIAgentConfigs and Secrets to check")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), "usage: ai-agent validate --config FILE | --kubeconfig FILE\n\n"+
			"Checks every agent, its Secrets and references as serve reads them, prints one line\n"+
			"per problem with the field and the fix, and exits 1 if there is any.\n\nflags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	var (
		agents   []agentconfig.Agent
		problems []string
		source   string
	)
	switch {
	case *config != "" && *kubeconfig != "":
		return usageError{"--config and --kubeconfig exclude each other: check one file or one cluster"}
	case *config != "":
		f, err := os.Open(*config)
		if err != nil {
			return fmt.Errorf("agents file: %w", err)
		}
		p, err := agentconfig.ParseAll(f, *config)
		_ = f.Close()
		if err != nil {
			return err
		}
		for _, e := range p.Errors {
			problems = append(problems, e.Error())
		}
		agents, source = p.Agents, *config
	case *kubeconfig != "" || getenv("KUBERNETES_SERVICE_HOST") != "":
		var err error
		if agents, err = clusterAgents(ctx, *kubeconfig, outbound.NetworkFromEnv(getenv)); err != nil {
			return err
		}
		source = "the cluster's namespace " + agentconfig.Namespace
	default:
		return usageError{"nothing to check: give --config FILE (or --kubeconfig FILE)"}
	}

	opts := agentcheck.Options{RancherMCPURL: getenv("MCP_URL")}
	oauthAgents := 0
	for _, a := range agents {
		for _, p := range agentcheck.Agent(a, opts) {
			problems = append(problems, p.String())
		}
		if a.Spec.AuthenticationType == v1alpha1.AuthOAuth2 {
			oauthAgents++
		}
	}
	if k := getenv("OAUTH_ENCRYPTION_KEY"); k != "" && oauthAgents > 0 {
		if _, err := oauth.ParseKeys(k); err != nil {
			problems = append(problems, fmt.Sprintf("environment: OAUTH_ENCRYPTION_KEY: %v. Fix: set it to base64 of 32 random bytes, the output of `openssl rand -base64 32` (several keys comma separated, the newest first).", err))
		}
	}
	for _, p := range problems {
		fmt.Fprintln(stdout, p)
	}
	if len(problems) > 0 {
		fmt.Fprintf(stdout, "%d problem(s) in %s (%d agent(s) checked).\n", len(problems), source, len(agents))
		return errProblemsFound
	}
	fmt.Fprintf(stdout, "%s: %d agent(s), no problem found.\n", source, len(agents))
	return nil
}

// clusterAgents reads every AIAgentConfig (enabled or not) and its Secrets
// directly from the API server (no cache: validate runs once).
func clusterAgents(ctx context.Context, kubeconfig string, network outbound.Network) ([]agentconfig.Agent, error) {
	cfg, err := restConfig(kubeconfig, network)
	if err != nil {
		return nil, err
	}
	scheme, err := kube.NewScheme()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	agents, err := kube.NewSource(c, agentconfig.Namespace).All(ctx)
	if err != nil {
		return nil, err
	}
	return slices.Clip(agents), nil
}
