package kube

import (
	"bytes"
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	"github.com/rancher/ai-agent/api/v1alpha1"
)

// Notify calls changed with an agent's name whenever its spec changes, it is
// deleted, or a Secret it references changes or goes away. Status-only
// updates do not count, so the controller's writes drop no sessions. Every
// replica runs it (it is not leader-elected): each one has its own MCP
// sessions to drop. changed must not block.
func Notify(ctx context.Context, c cache.Cache, src *Source, changed func(agent string)) error {
	agentsInf, err := c.GetInformer(ctx, &v1alpha1.AIAgentConfig{})
	if err != nil {
		return fmt.Errorf("agent informer: %w", err)
	}
	_, err = agentsInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		UpdateFunc: func(oldObj, newObj any) {
			o, ok1 := oldObj.(*v1alpha1.AIAgentConfig)
			n, ok2 := newObj.(*v1alpha1.AIAgentConfig)
			if ok1 && ok2 && o.Generation != n.Generation {
				changed(n.Name)
			}
		},
		DeleteFunc: func(obj any) {
			if name, ok := deletedName(obj); ok {
				changed(name)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("agent event handler: %w", err)
	}
	secretsInf, err := c.GetInformer(ctx, &corev1.Secret{})
	if err != nil {
		return fmt.Errorf("secret informer: %w", err)
	}
	bySecret := func(name string) {
		names, err := src.Referencing(ctx, name)
		if err != nil {
			return // the cache is stopping
		}
		for _, n := range names {
			changed(n)
		}
	}
	_, err = secretsInf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		UpdateFunc: func(oldObj, newObj any) {
			o, ok1 := oldObj.(*corev1.Secret)
			n, ok2 := newObj.(*corev1.Secret)
			if ok1 && ok2 && !sameData(o, n) {
				bySecret(n.Name)
			}
		},
		DeleteFunc: func(obj any) {
			if name, ok := deletedName(obj); ok {
				bySecret(name)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("secret event handler: %w", err)
	}
	return nil
}

func sameData(a, b *corev1.Secret) bool {
	return maps.EqualFunc(a.Data, b.Data, bytes.Equal) && maps.Equal(a.StringData, b.StringData)
}

// deletedName reads the name of a deleted object, which may arrive wrapped
// in a tombstone when the watch missed the delete.
func deletedName(obj any) (string, bool) {
	if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	type named interface{ GetName() string }
	if o, ok := obj.(named); ok {
		return o.GetName(), true
	}
	return "", false
}
