package oauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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
	Client ClientInfo `json:"client"`
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
	Pending
	User  string `json:"user"`
	Agent string `json:"agent"`
	// Client and AS are what the code exchange needs.
	Client ClientInfo `json:"client"`
	AS     ASMetadata `json:"as"`
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
	plain, err := v.seal.Open(b, k.aad())
	if err != nil {
		return TokenSet{}, fmt.Errorf("oauth vault: %w", err)
	}
	var t TokenSet
	if err := json.Unmarshal(plain, &t); err != nil {
		return TokenSet{}, fmt.Errorf("oauth vault: %w", err)
	}
	return t, nil
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
	if err := v.st.PutToken(ctx, k.id(), v.seal.Seal(plain, k.aad()), expires); err != nil {
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

func pendingAAD(state string) []byte { return []byte("pending\x00" + state) }

// PutPending stores a started flow under its state until ttl passes.
func (v *Vault) PutPending(ctx context.Context, p PendingFlow, ttl time.Duration) error {
	plain, err := json.Marshal(p)
	if err != nil {
		return err
	}
	key := stateKey(p.State)
	if err := v.st.PutPending(ctx, key, v.seal.Seal(plain, pendingAAD(p.State)), v.now().Add(ttl)); err != nil {
		return fmt.Errorf("oauth vault: %w", err)
	}
	return nil
}

// TakePending returns and forgets the flow of state (single use).
func (v *Vault) TakePending(ctx context.Context, state string) (PendingFlow, error) {
	b, err := v.st.TakePending(ctx, stateKey(state))
	if errors.Is(err, store.ErrNotFound) {
		return PendingFlow{}, ErrNoPending
	}
	if err != nil {
		return PendingFlow{}, fmt.Errorf("oauth vault: %w", err)
	}
	plain, err := v.seal.Open(b, pendingAAD(state))
	if err != nil {
		return PendingFlow{}, fmt.Errorf("oauth vault: %w", err)
	}
	var p PendingFlow
	if err := json.Unmarshal(plain, &p); err != nil {
		return PendingFlow{}, fmt.Errorf("oauth vault: %w", err)
	}
	return p, nil
}

// stateKey hashes a state so the store never holds it in clear.
func stateKey(state string) string {
	h := sha256.Sum256([]byte("state\x00" + state))
	return hex.EncodeToString(h[:])
}

func clientKey(issuer, redirectURI string) string {
	h := sha256.Sum256([]byte("client\x00" + issuer + "\x00" + redirectURI))
	return hex.EncodeToString(h[:])
}

// GetClient returns the registration kept for an issuer and redirect URI.
func (v *Vault) GetClient(ctx context.Context, issuer, redirectURI string) (ClientInfo, error) {
	key := clientKey(issuer, redirectURI)
	b, err := v.st.GetClient(ctx, key)
	if err != nil {
		return ClientInfo{}, err
	}
	plain, err := v.seal.Open(b, []byte(key))
	if err != nil {
		return ClientInfo{}, fmt.Errorf("oauth vault: %w", err)
	}
	var ci ClientInfo
	err = json.Unmarshal(plain, &ci)
	return ci, err
}

// PutClient keeps a registration, shared by all users of the issuer.
func (v *Vault) PutClient(ctx context.Context, redirectURI string, ci ClientInfo) error {
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
