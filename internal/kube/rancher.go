package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Rancher settings the agent reads: its internal URL and CA when
// RANCHER_URL is not set, and the public URL browsers use (the allowed
// origin and the OAuth redirect URI).
const (
	settingServerURL = "internal-server-url"
	settingCACerts   = "internal-cacerts"
	settingPublicURL = "server-url"
)

// ErrNoRancherURL is matched when the cluster names no Rancher URL.
var ErrNoRancherURL = errors.New("the cluster has no internal-server-url setting")

// RancherEndpoint reads Rancher's own URL and CA from its settings
// (management.cattle.io/v3 Setting, cluster scoped): internal-server-url
// and internal-cacerts. An empty CA means the system pool.
func RancherEndpoint(ctx context.Context, c client.Reader) (url string, caPEM []byte, err error) {
	url, err = setting(ctx, c, settingServerURL)
	if err != nil {
		return "", nil, err
	}
	if url == "" {
		return "", nil, ErrNoRancherURL
	}
	ca, err := setting(ctx, c, settingCACerts)
	if err != nil {
		return "", nil, err
	}
	return strings.TrimRight(url, "/"), []byte(ca), nil
}

// PublicURL reads Rancher's server-url setting: the URL users open in
// their browsers. It is "" (with no error) when the setting is unset.
func PublicURL(ctx context.Context, c client.Reader) (string, error) {
	v, err := setting(ctx, c, settingPublicURL)
	return strings.TrimRight(v, "/"), err
}

// setting returns a Setting's value, else its default.
func setting(ctx context.Context, c client.Reader, name string) (string, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: "management.cattle.io", Version: "v3", Kind: "Setting"})
	if err := c.Get(ctx, client.ObjectKey{Name: name}, u); err != nil {
		return "", fmt.Errorf("rancher setting %s: %w", name, err)
	}
	if v, _, _ := unstructured.NestedString(u.Object, "value"); v != "" {
		return v, nil
	}
	v, _, _ := unstructured.NestedString(u.Object, "default")
	return v, nil
}
