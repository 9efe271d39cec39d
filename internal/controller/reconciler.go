package controller

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/rancher/ai-agent/api/v1alpha1"
	"github.com/rancher/ai-agent/internal/agentconfig"
	"github.com/rancher/ai-agent/internal/kube"
)

// ErrTransient is wrapped by Reconcile's error when the MCP server could not
// be reached; the work queue then retries with backoff (1 s doubling to 300 s).
var ErrTransient = errors.New("mcp server unreachable")

// Reconciler converges one AIAgentConfig. Build it with Options and add it
// to a manager with Setup.
type Reconciler struct {
	client   client.Client // reads from the cache, writes to the API server
	agents   AgentReader
	opts     Options
	builtins map[string]v1alpha1.AIAgentConfigSpec
}

// Reconcile checks the agent and writes its status; for a built-in it first
// creates it or repairs its spec. A deleted agent's cached state is dropped.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	log := r.opts.Logger.With("agent", req.Name)
	var obj v1alpha1.AIAgentConfig
	err := r.client.Get(ctx, req.NamespacedName, &obj)
	switch {
	case apierrors.IsNotFound(err):
		for _, f := range r.opts.Forget {
			f.Forget(req.Name)
		}
		if spec, ok := r.builtins[req.Name]; ok {
			return reconcile.Result{}, r.createBuiltin(ctx, req.Name, spec)
		}
		return reconcile.Result{}, nil
	case err != nil:
		return reconcile.Result{}, fmt.Errorf("get agent %q: %w", req.Name, err)
	}
	if repaired, err := r.repairBuiltin(ctx, &obj); err != nil || repaired {
		return reconcile.Result{}, err // the update event brings us back
	}
	a, err := r.agents.Agent(ctx, req.Name)
	if err != nil {
		return reconcile.Result{}, err
	}
	v := r.check(ctx, a, log)
	st := obj.Status.DeepCopy()
	if apply(st, v, obj.Generation) {
		orig := obj.DeepCopy()
		obj.Status = *st
		if err := r.client.Status().Patch(ctx, &obj, client.MergeFrom(orig)); err != nil {
			return reconcile.Result{}, fmt.Errorf("write status of %q: %w", req.Name, err)
		}
		log.Info("agent status", "phase", st.Phase, "message", v.message)
	}
	if v.transient {
		return reconcile.Result{}, fmt.Errorf("agent %q: %w: %s", req.Name, ErrTransient, v.message)
	}
	return reconcile.Result{RequeueAfter: r.opts.Interval}, nil
}

// check probes the agent and, for OAUTH2, registers its client whatever the
// probe said (the Python controller skipped that on the usual 401).
func (r *Reconciler) check(ctx context.Context, a agentconfig.Agent, log *slog.Logger) verdict {
	if a.ConfigError != "" {
		return verdict{message: prefixConfig + a.ConfigError}
	}
	pctx, cancel := context.WithTimeout(ctx, r.opts.ProbeTimeout)
	defer cancel()
	v := judge(a, r.opts.Prober.Probe(pctx, a))
	if a.Spec.AuthenticationType == v1alpha1.AuthOAuth2 && r.opts.OAuth != nil {
		if err := r.opts.OAuth.Register(pctx, a); err != nil {
			log.Warn("OAuth client registration failed", "error", err)
		}
	}
	return v
}

// createBuiltin creates a missing built-in agent.
func (r *Reconciler) createBuiltin(ctx context.Context, name string, spec v1alpha1.AIAgentConfigSpec) error {
	obj := &v1alpha1.AIAgentConfig{Spec: spec}
	obj.Name, obj.Namespace = name, r.opts.Namespace
	if err := r.client.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create built-in agent %q: %w", name, err)
	}
	r.opts.Logger.Info("created built-in agent", "agent", name)
	return nil
}

// repairBuiltin puts a built-in agent's spec back in line, keeping the
// fields users may change; it reports whether it wrote.
func (r *Reconciler) repairBuiltin(ctx context.Context, obj *v1alpha1.AIAgentConfig) (bool, error) {
	want, ok := r.builtins[obj.Name]
	if !ok || !obj.Spec.BuiltIn {
		return false, nil // a user's own agent that happens to share the name
	}
	keepUserFields(&want, obj.Spec)
	if equality.Semantic.DeepEqual(want, obj.Spec) {
		return false, nil
	}
	orig := obj.DeepCopy()
	obj.Spec = want
	if err := r.client.Patch(ctx, obj, client.MergeFromWithOptions(orig, client.MergeFromWithOptimisticLock{})); err != nil {
		return false, fmt.Errorf("repair built-in agent %q: %w", obj.Name, err)
	}
	r.opts.Logger.Info("reverted drift of built-in agent", "agent", obj.Name)
	return true, nil
}

// ensureBuiltins creates every missing built-in; the manager runs it once
// when this replica becomes leader. Drift is handled by Reconcile.
func (r *Reconciler) ensureBuiltins(ctx context.Context) error {
	var errs []error
	for name, spec := range r.builtins {
		var obj v1alpha1.AIAgentConfig
		err := r.client.Get(ctx, client.ObjectKey{Namespace: r.opts.Namespace, Name: name}, &obj)
		if apierrors.IsNotFound(err) {
			err = r.createBuiltin(ctx, name, spec)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

var _ AgentReader = (*kube.Source)(nil)

// retryBase and retryMax bound the transient-error backoff.
const (
	retryBase = time.Second
	retryMax  = 300 * time.Second
)
