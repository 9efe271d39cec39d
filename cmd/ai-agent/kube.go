package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/rancher/ai-agent/internal/agents"
)

// kubeAgents reads the agents from the cluster (in cluster, or kubeconfig).
func kubeAgents(_ context.Context, _ func(string) string, _ string, _ *slog.Logger) (agents.Source, error) {
	return nil, errors.New("reading agents from the cluster is not available in this build yet: use --config FILE")
}
