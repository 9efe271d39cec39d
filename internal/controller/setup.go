package controller

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/rancher/ai-agent/api/v1alpha1"
)

// Options configure the controller.
type Options struct {
	// Namespace holds the agents (cattle-ai-agent-system).
	Namespace string
	// Agents resolves agents with their Secrets, from the manager's cache.
	Agents AgentReader
	// Prober checks MCP servers. Required.
	Prober Prober
	// OAuth registers OAUTH2 agents' clients; nil skips registration.
	OAuth OAuthRegistrar
	// Forget is told about deleted agents.
	Forget []Forgetter
	// Builtins locate the built-in agents' MCP server.
	Builtins BuiltinOptions
	// Interval between checks of a healthy agent; default 5m.
	Interval time.Duration
	// ProbeTimeout bounds one check; default 30s.
	ProbeTimeout time.Duration
	// Logger defaults to discarding.
	Logger *slog.Logger
}

// ErrNoProber is returned by Setup without Options.Prober or Options.Agents.
var ErrNoProber = errors.New("controller: Prober and Agents are required")

// Setup adds the AIAgentConfig controller and the built-in seeding to mgr.
// Both run on the elected leader only; mgr's cache must be limited to
// Options.Namespace and have kube.SecretIndex registered.
func Setup(mgr manager.Manager, o Options) error {
	if o.Prober == nil || o.Agents == nil {
		return ErrNoProber
	}
	if o.Interval <= 0 {
		o.Interval = 5 * time.Minute
	}
	if o.ProbeTimeout <= 0 {
		o.ProbeTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	r := &Reconciler{client: mgr.GetClient(), agents: o.Agents, opts: o, builtins: Builtins(o.Builtins)}
	inNamespace := predicate.NewPredicateFuncs(func(obj client.Object) bool { return obj.GetNamespace() == o.Namespace })
	skip := true
	err := ctrl.NewControllerManagedBy(mgr).
		Named("aiagentconfig").
		For(&v1alpha1.AIAgentConfig{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.agentsOfSecret),
			builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		WithEventFilter(inNamespace).
		WithOptions(controller.Options{
			RateLimiter:        workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](retryBase, retryMax),
			SkipNameValidation: &skip, // names are a process-wide registry; tests build several managers
			Logger:             logr.FromSlogHandler(o.Logger.Handler()),
		}).
		Complete(r)
	if err != nil {
		return err
	}
	return mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		if err := r.ensureBuiltins(ctx); err != nil {
			o.Logger.Warn("seeding built-in agents", "error", err) // Reconcile retries on events
		}
		return nil
	}))
}

// agentsOfSecret maps a Secret event to the agents that reference it.
func (r *Reconciler) agentsOfSecret(ctx context.Context, obj client.Object) []reconcile.Request {
	names, err := r.agents.Referencing(ctx, obj.GetName())
	if err != nil {
		r.opts.Logger.Warn("agents of secret", "secret", obj.GetName(), "error", err)
		return nil
	}
	reqs := make([]reconcile.Request, len(names))
	for i, n := range names {
		reqs[i] = reconcile.Request{NamespacedName: client.ObjectKey{Namespace: r.opts.Namespace, Name: n}}
	}
	return reqs
}
