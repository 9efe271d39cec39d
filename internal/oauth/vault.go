package oauth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rancher/ai-agent/internal/oauthproto"
	"github.com/rancher/ai-agent/internal/store"
)

// ErrNoToken is matched when the vault holds no token for a key.
var ErrNoToken = errors.New("oauth: no token")

// ErrNoPending is matched when a callback's state is unknown, used or expired.
var ErrNoPending = errors.New("oauth: unknown or expired authorization state")

// TokenKey names one user's tokens for one agent at one authorization
// server. A token is only ever used for the agent (MCP server) and issuer
// it was obtained for.
type TokenKey struct {
	User, Agent, Issuer string
}

func (k TokenKey) id() string {
	h := sha256.Sum256([]byte("token\x00" + k.User + "\x00" + k.Agent + "\x00" + k.Issuer))
	return hex.EncodeToString(h[:])
}

func (k TokenKey) aad() []byte {
	return []byte("token\x00" + k.User + "\x00" + k.Agent + "\x00" + k.Issuer)
}

// TokenSet is what the vault keeps for a TokenKey.
type TokenSet struct {
	AccessToken  string    `json:"at"`
	RefreshToken string    `json:"rt,omitempty"`
	TokenType    string    `json:"tt,omitempty"`
	Expiry       time.Time `json:"exp"`
	// Obtained is when the access token was issued to us.
	Obtained time.Time `json:"obt"`
	Scopes   []string  `json:"scopes,omitempty"`
	Resource string    `json:"res"`
	// Client is the identity the tokens were issued to; refreshes use it.
	Client oauthproto.ClientInfo `json:"client"`
	// Requested are the scopes asked for, kept for step-up unions.
	Requested []string `json:"req,omitempty"`
	// DPoPKey is the private key (PKCS#8) the token is bound to (RFC 9449),
	// sealed with it: the token alone cannot be used.
	DPoPKey []byte `json:"dpop,omitempty"`
	// IDToken is the OpenID Connect ID token of a sign-in at an enterprise
	// identity provider.
	IDToken string `json:"idt,omitempty"`
}

// Expired reports whether the access token is expired, or within leeway of
// expiring. The leeway is at most a quarter of the token's lifetime, so a
// short-lived token is not refreshed on every use.
func (t TokenSet) Expired(now time.Time, leeway time.Duration) bool {
	if t.Expiry.IsZero() {
		return false
	}
	if !t.Obtained.IsZero() {
		leeway = min(leeway, t.Expiry.Sub(t.Obtained)/4)
	}
	return !now.Add(leeway).Before(t.Expiry)
}

// PendingFlow is a started authorization, bound to the user who started it.
type PendingFlow struct {
	oauthproto.Pending
	User  string `json:"user"`
	Agent string `json:"agent"`
	// Client and AS are what the code exchange needs.
	Client oauthproto.ClientInfo `json:"client"`
	AS     oauthproto.ASMetadata `json:"as"`
	// CookiePath scopes the cookies the callback sets.
	CookiePath string `json:"cookiePath,omitempty"`
	// DPoPKey is the key the code exchange binds the token to, when the
	// authorization server supports DPoP.
	DPoPKey []byte `json:"dpop,omitempty"`
	// TokenAgent, when set, is the TokenKey.Agent the tokens are kept under
	// instead of Agent (the per-user enterprise IdP sign-in).
	TokenAgent string `json:"tokenAgent,omitempty"`
}

// TokenKey is where the callback keeps the flow's tokens.
func (p PendingFlow) TokenKey() TokenKey {
	agent := p.Agent
	if p.TokenAgent != "" {
		agent = p.TokenAgent
	}
	return TokenKey{User: p.User, Agent: agent, Issuer: p.Issuer}
}

// Vault keeps tokens, pending flows and client registrations sealed in an
// OAuthStore.
type Vault struct {
	st     store.OAuthStore
	seal   *Sealer
	now    func() time.Time
	keepRT time.Duration
}

// NewVault returns a vault over st. Records are sealed with s.
func NewVault(st store.OAuthStore, s *Sealer, now func() time.Time) *Vault {
	if now == nil {
		now = time.Now
	}
	return &Vault{st: st, seal: s, now: now, keepRT: 30 * 24 * time.Hour}
}

// Get returns the tokens of k, or an error matching ErrNoToken.
func (v *Vault) Get(ctx context.Context, k TokenKey) (TokenSet, error) {
	b, err := v.st.GetToken(ctx, k.id())
	if errors.Is(err, store.ErrNotFound) {
		return TokenSet{}, ErrNoToken
	}
	if err != nil {
		return TokenSet{}, fmt.Errorf("oauth vault: %w", err)
	}
	t, _, err := v.open(k, b)
	return t, err
}

func (v *Vault) open(k TokenKey, b []byte) (TokenSet, bool, error) {
	plain, stale, err := v.seal.open(b, k.aad())
	if err != nil {
		return TokenSet{}, false, fmt.Errorf("oauth vault: %w", err)
	}
	var t TokenSet
	if err := json.Unmarshal(plain, &t); err != nil {
		return TokenSet{}, false, fmt.Errorf("oauth vault: %w", err)
	}
	return t, stale, nil
}

// Reseal seals the tokens of k again with the current key when an older
// key sealed them, so that the old key can be retired. It holds the lock of
// k and rewrites only the record it read: a refresh or sign-in that wrote
// newer tokens meanwhile is never overwritten.
func (v *Vault) Reseal(ctx context.Context, k TokenKey) error {
	b, err := v.st.GetToken(ctx, k.id())
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("oauth vault: %w", err)
	}
	if _, stale, err := v.open(k, b); err != nil || !stale {
		return err
	}
	unlock, err := v.Lock(ctx, k)
	if err != nil {
		return fmt.Errorf("oauth vault: %w", err)
	}
	defer unlock()
	now, err := v.st.GetToken(ctx, k.id())
	if err != nil || !bytes.Equal(now, b) {
		return nil // changed or gone meanwhile: nothing old to rewrite
	}
	t, _, err := v.open(k, b)
	if err != nil {
		return err
	}
	return v.Put(ctx, k, t)
}

// Put stores the tokens of k. The record lives while its refresh token may
// be used, or until the access token expires when there is none.
func (v *Vault) Put(ctx context.Context, k TokenKey, t TokenSet) error {
	plain, err := json.Marshal(t)
	if err != nil {
		return err
	}
	expires := t.Expiry
	if t.RefreshToken != "" || expires.IsZero() {
		expires = v.now().Add(v.keepRT)
	}
	if err := v.st.PutTokenRef(ctx, k.id(), k.ref(), v.seal.Seal(plain, k.aad()), expires); err != nil {
		return fmt.Errorf("oauth vault: %w", err)
	}
	return nil
}

// Delete forgets the tokens of k (the user must sign in again).
func (v *Vault) Delete(ctx context.Context, k TokenKey) error {
	if err := v.st.DeleteToken(ctx, k.id()); err != nil {
		return fmt.Errorf("oauth vault: %w", err)
	}
	return nil
}

// Lock serialises refreshes of k (single flight, across replicas when the
// store is shared).
func (v *Vault) Lock(ctx context.Context, k TokenKey) (func(), error) {
	return v.st.Lock(ctx, "refresh:"+k.id())
}

// The state of a pending flow is bound to the user who started it: the
// store key and the associated data both include the user, so a callback
// that arrives with another user's session (or none) finds nothing and
// consumes nothing.
func pendingAAD(user, state string) []byte { return []byte("pending\x00" + user + "\x00" + state) }

// PutPending stores a started flow under its state until ttl passes. A user
// has at most one pending sign-in per agent: the flow replaces the one
// started before it, whose state can then no longer be redeemed.
func (v *Vault) PutPending(ctx context.Context, p PendingFlow, ttl time.Duration) error {
	plain, err := json.Marshal(p)
	if err != nil {
		return err
	}
	slot := slotKey(p.User, p.Agent)
	unlock, err := v.st.Lock(ctx, "pending:"+slot)
	if err != nil {
		return fmt.Errorf("oauth vault: %w", err)
	}
	defer unlock()
	if old, err := v.st.TakePending(ctx, slot); err == nil {
		if _, err := v.st.TakePending(ctx, string(old)); err != nil && !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("oauth vault: replacing a pending sign-in: %w", err)
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("oauth vault: %w", err)
	}
	key := stateKey(p.User, p.State)
	expires := v.now().Add(ttl)
	if err := v.st.PutPending(ctx, key, v.seal.Seal(plain, pendingAAD(p.User, p.State)), expires); err != nil {
		return fmt.Errorf("oauth vault: %w", err)
	}
	if err := v.st.PutPending(ctx, slot, []byte(key), expires); err != nil {
		return fmt.Errorf("oauth vault: %w", err)
	}
	return nil
}

// TakePending returns and forgets the flow that user started with state
// (single use). Another user's state is ErrNoPending and stays redeemable
// by its owner.
func (v *Vault) TakePending(ctx context.Context, user, state string) (PendingFlow, error) {
	if user == "" || state == "" {
		return PendingFlow{}, ErrNoPending
	}
	b, err := v.st.TakePending(ctx, stateKey(user, state))
	if errors.Is(err, store.ErrNotFound) {
		return PendingFlow{}, ErrNoPending
	}
	if err != nil {
		return PendingFlow{}, fmt.Errorf("oauth vault: %w", err)
	}
	plain, err := v.seal.Open(b, pendingAAD(user, state))
	if err != nil {
		return PendingFlow{}, fmt.Errorf("oauth vault: %w", err)
	}
	var p PendingFlow
	if err := json.Unmarshal(plain, &p); err != nil {
		return PendingFlow{}, fmt.Errorf("oauth vault: %w", err)
	}
	if p.User != user {
		return PendingFlow{}, ErrNoPending
	}
	return p, nil
}

// stateKey hashes a user's state so the store never holds it in clear.
func stateKey(user, state string) string {
	h := sha256.Sum256([]byte("state\x00" + user + "\x00" + state))
	return hex.EncodeToString(h[:])
}

// slotKey names the one pending sign-in of a user for an agent; its record
// holds the stateKey of that sign-in.
func slotKey(user, agent string) string {
	h := sha256.Sum256([]byte("pending-slot\x00" + user + "\x00" + agent))
	return hex.EncodeToString(h[:])
}

// clientKey names the registration for an issuer and redirect URI: the
// redirect URI's tag, a dot, then a hash of both, so that SweepClients can
// keep the registrations of the redirect URIs in use by key prefix.
func clientKey(issuer, redirectURI string) string {
	h := sha256.Sum256([]byte("client\x00" + issuer + "\x00" + redirectURI))
	return redirectTag(redirectURI) + hex.EncodeToString(h[:])
}

// redirectTag is the key prefix of a redirect URI's registrations.
func redirectTag(redirectURI string) string {
	h := sha256.Sum256([]byte("redirect\x00" + redirectURI))
	return hex.EncodeToString(h[:8]) + "."
}

// SweepClients deletes the registrations for redirect URIs other than
// inUse, then the least recently written beyond max; it reports how many.
func (v *Vault) SweepClients(ctx context.Context, inUse []string, max int) (int, error) {
	keep := make([]string, len(inUse))
	for i, u := range inUse {
		keep[i] = redirectTag(u)
	}
	n, err := v.st.SweepClients(ctx, keep, max)
	if err != nil {
		return n, fmt.Errorf("oauth vault: %w", err)
	}
	return n, nil
}

// GetClient returns the registration kept for an issuer and redirect URI.
func (v *Vault) GetClient(ctx context.Context, issuer, redirectURI string) (oauthproto.ClientInfo, error) {
	key := clientKey(issuer, redirectURI)
	b, err := v.st.GetClient(ctx, key)
	if err != nil {
		return oauthproto.ClientInfo{}, err
	}
	plain, stale, err := v.seal.open(b, []byte(key))
	if err != nil {
		return oauthproto.ClientInfo{}, fmt.Errorf("oauth vault: %w", err)
	}
	var ci oauthproto.ClientInfo
	if err := json.Unmarshal(plain, &ci); err != nil {
		return oauthproto.ClientInfo{}, fmt.Errorf("oauth vault: %w", err)
	}
	if stale {
		_ = v.PutClient(ctx, redirectURI, ci)
	}
	return ci, nil
}

// PutClient keeps a registration, shared by all users of the issuer.
func (v *Vault) PutClient(ctx context.Context, redirectURI string, ci oauthproto.ClientInfo) error {
	key := clientKey(ci.Issuer, redirectURI)
	plain, err := json.Marshal(ci)
	if err != nil {
		return err
	}
	return v.st.PutClient(ctx, key, v.seal.Seal(plain, []byte(key)))
}

// DeleteClient forgets a registration (the AS no longer knows it).
func (v *Vault) DeleteClient(ctx context.Context, issuer, redirectURI string) error {
	return v.st.DeleteClient(ctx, clientKey(issuer, redirectURI))
}

// Sweep deletes expired flows and tokens.
func (v *Vault) Sweep(ctx context.Context) (int, error) { return v.st.Sweep(ctx, v.now()) }
