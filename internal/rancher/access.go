package rancher

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	authv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/rancher/ai-agent/internal/agentconfig"
)

// Errors of access checks; match them with errors.Is.
var (
	// ErrForbidden: the answer is no.
	ErrForbidden = errors.New("rancher: access denied")
	// ErrAccessUnknown: no answer could be had (Rancher or the API server
	// unreachable, refused the review, or answered nonsense). Callers fail
	// closed on it, as on ErrForbidden.
	ErrAccessUnknown = errors.New("rancher: cannot check access")
)

// ConfigureAgents is the permission of people who may configure agents:
// update AIAgentConfigs in the agents' namespace. Whoever makes the agent
// fetch a URL they name (OAuth discovery and registration, a model list at
// a URL) must have it.
func ConfigureAgents() authv1.ResourceAttributes {
	return authv1.ResourceAttributes{Verb: "update", Group: "ai.cattle.io", Resource: "aiagentconfigs", Namespace: agentconfig.Namespace}
}

// AccessReviewer answers whether a Rancher user may do something in the
// local cluster. Allow returns nil when the answer is yes, an error
// wrapping ErrForbidden when it is no, and one wrapping ErrAccessUnknown
// when there is no answer.
type AccessReviewer interface {
	Allow(ctx context.Context, u User, attrs authv1.ResourceAttributes) error
}

// SubjectAccessReviews asks the API server with a SubjectAccessReview
// (authorization.k8s.io/v1) about the user name u.ID, which is the name
// Rancher's RBAC gives the user in the local cluster. It needs permission
// to create subjectaccessreviews (the chart's ClusterRole has it).
type SubjectAccessReviews struct{ Client client.Client }

// Allow implements AccessReviewer.
func (s SubjectAccessReviews) Allow(ctx context.Context, u User, attrs authv1.ResourceAttributes) error {
	if u.ID == "" {
		return fmt.Errorf("%w: no user", ErrForbidden)
	}
	sar := &authv1.SubjectAccessReview{Spec: authv1.SubjectAccessReviewSpec{User: u.ID, ResourceAttributes: &attrs}}
	if err := s.Client.Create(ctx, sar); err != nil {
		return fmt.Errorf("%w: subject access review: %w", ErrAccessUnknown, err)
	}
	return verdict(u, attrs, sar.Status)
}

// SelfSubjectAccessPath is where Rancher proxies the local cluster's
// SelfSubjectAccessReviews.
const SelfSubjectAccessPath = "/k8s/clusters/local/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"

// SelfSubjectAccessReviews asks Rancher, outside a cluster: it POSTs a
// SelfSubjectAccessReview as the user (their session token as bearer) to
// Rancher's proxy of the local cluster, so Rancher's own view of the user
// (groups included) decides.
type SelfSubjectAccessReviews struct {
	RancherURL string
	// HTTPClient defaults to a client with a 10s timeout.
	HTTPClient *http.Client
}

// Allow implements AccessReviewer.
func (s SelfSubjectAccessReviews) Allow(ctx context.Context, u User, attrs authv1.ResourceAttributes) error {
	if u.Token == "" {
		return fmt.Errorf("%w: no session", ErrForbidden)
	}
	base, err := url.Parse(strings.TrimRight(s.RancherURL, "/"))
	if err != nil || base.Host == "" {
		return fmt.Errorf("%w: bad Rancher URL %q", ErrAccessUnknown, s.RancherURL)
	}
	body, err := json.Marshal(authv1.SelfSubjectAccessReview{
		TypeMeta: metaSSAR(), Spec: authv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attrs}})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrAccessUnknown, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base.JoinPath(SelfSubjectAccessPath).String(), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrAccessUnknown, err)
	}
	req.Header.Set("Authorization", "Bearer "+u.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	hc := s.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: fetchTimeout}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: self subject access review: %w", ErrAccessUnknown, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return fmt.Errorf("%w: self subject access review: Rancher answered %s", ErrAccessUnknown, resp.Status)
	}
	var out authv1.SelfSubjectAccessReview
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&out); err != nil {
		return fmt.Errorf("%w: decode self subject access review: %w", ErrAccessUnknown, err)
	}
	return verdict(u, attrs, out.Status)
}

func verdict(u User, attrs authv1.ResourceAttributes, st authv1.SubjectAccessReviewStatus) error {
	if st.EvaluationError != "" && !st.Allowed {
		return fmt.Errorf("%w: %s", ErrAccessUnknown, st.EvaluationError)
	}
	if !st.Allowed {
		return fmt.Errorf("%w: user %s may not %s %s in %s", ErrForbidden, u.ID, attrs.Verb, attrs.Resource, attrs.Namespace)
	}
	return nil
}

// CachedAccess remembers a reviewer's yes and no answers for a short time,
// per user, session and question; failures to answer are not kept. It is
// safe for concurrent use.
type CachedAccess struct {
	next AccessReviewer
	ttl  time.Duration
	now  func() time.Time

	mu    sync.Mutex
	cache map[string]accessEntry
}

type accessEntry struct {
	err     error
	expires time.Time
}

// NewCachedAccess caches next's answers for ttl (default 30s) by the clock
// now (default time.Now).
func NewCachedAccess(next AccessReviewer, ttl time.Duration, now func() time.Time) *CachedAccess {
	if ttl <= 0 {
		ttl = defaultCacheTTL
	}
	if now == nil {
		now = time.Now
	}
	return &CachedAccess{next: next, ttl: ttl, now: now, cache: map[string]accessEntry{}}
}

// Allow implements AccessReviewer.
func (c *CachedAccess) Allow(ctx context.Context, u User, attrs authv1.ResourceAttributes) error {
	sum := sha256.Sum256([]byte(u.ID + "\x00" + u.Token + "\x00" + attrs.Verb + "\x00" + attrs.Group + "\x00" +
		attrs.Resource + "\x00" + attrs.Namespace + "\x00" + attrs.Name))
	key := hex.EncodeToString(sum[:])
	c.mu.Lock()
	e, ok := c.cache[key]
	c.mu.Unlock()
	if ok && c.now().Before(e.expires) {
		return e.err
	}
	err := c.next.Allow(ctx, u, attrs)
	if err != nil && !errors.Is(err, ErrForbidden) {
		return err
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.cache) >= maxCacheEntries {
		for k, old := range c.cache {
			if !now.Before(old.expires) {
				delete(c.cache, k)
			}
		}
		if len(c.cache) >= maxCacheEntries {
			clear(c.cache)
		}
	}
	c.cache[key] = accessEntry{err: err, expires: now.Add(c.ttl)}
	return err
}

func metaSSAR() metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: "authorization.k8s.io/v1", Kind: "SelfSubjectAccessReview"}
}
