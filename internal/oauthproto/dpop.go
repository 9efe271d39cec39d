package oauthproto

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/rancher/ai-agent/internal/outbound"
)

// TokenTypeDPoP is the token_type of a DPoP-bound access token (RFC 9449 §5).
const TokenTypeDPoP = "DPoP"

// DPoPKey is the key pair that an access token is bound to (RFC 9449). One
// exists per (user, agent); it is sealed in the vault inside the token record
// (TokenSet.DPoPKey), so a token copied out of the store is useless without
// it. The zero value is not usable; make one with NewDPoPKey.
type DPoPKey struct {
	priv *ecdsa.PrivateKey
	s    signer
	jwk  map[string]any

	mu     sync.Mutex
	nonces map[string]string // server nonce by origin (RFC 9449 §8, §9)
}

// NewDPoPKey makes a fresh P-256 key (ES256, the algorithm every DPoP server
// supports).
func NewDPoPKey() (*DPoPKey, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	return dpopKeyFrom(priv)
}

func dpopKeyFrom(priv *ecdsa.PrivateKey) (*DPoPKey, error) {
	s, err := newSigner(priv, "ES256")
	if err != nil {
		return nil, err
	}
	jwk, err := publicJWK(&priv.PublicKey)
	if err != nil {
		return nil, err
	}
	return &DPoPKey{priv: priv, s: s, jwk: jwk, nonces: map[string]string{}}, nil
}

// MarshalBinary returns the private key (PKCS#8 DER), for sealing.
func (k *DPoPKey) MarshalBinary() ([]byte, error) { return x509.MarshalPKCS8PrivateKey(k.priv) }

// ParseDPoPKey reads what MarshalBinary wrote.
func ParseDPoPKey(der []byte) (*DPoPKey, error) {
	pk, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("%w: DPoP key: %v", ErrSigningKey, err)
	}
	ec, ok := pk.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: DPoP key is not an EC key", ErrSigningKey)
	}
	return dpopKeyFrom(ec)
}

// Thumbprint is the RFC 7638 SHA-256 JWK thumbprint of the public key: the
// cnf.jkt of tokens bound to it (RFC 9449 §6).
func (k *DPoPKey) Thumbprint() string {
	// Members in lexicographic order, no whitespace (RFC 7638 §3).
	s := fmt.Sprintf(`{"crv":%q,"kty":"EC","x":%q,"y":%q}`, k.jwk["crv"], k.jwk["x"], k.jwk["y"])
	sum := sha256.Sum256([]byte(s))
	return b64.EncodeToString(sum[:])
}

// Proof returns a DPoP proof JWT (RFC 9449 §4.2) for one request: a fresh
// jti, htm and htu (the URI without query and fragment), iat, ath (the
// access token's hash) when accessToken is set, and the server's nonce for
// the origin when one is known.
func (k *DPoPKey) Proof(method, uri, accessToken string, now time.Time) (string, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	jti, err := randomID()
	if err != nil {
		return "", err
	}
	claims := map[string]any{
		"jti": jti,
		"htm": method,
		"htu": u.Scheme + "://" + u.Host + u.EscapedPath(),
		"iat": now.Unix(),
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = b64.EncodeToString(sum[:])
	}
	if n := k.nonce(u); n != "" {
		claims["nonce"] = n
	}
	return k.s.sign(map[string]any{"typ": "dpop+jwt", "jwk": k.jwk}, claims)
}

func (k *DPoPKey) nonce(u *url.URL) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.nonces[outbound.Origin(u)]
}

// Observe keeps a DPoP-Nonce a server sent (with a challenge or with any
// other answer, RFC 9449 §8.2) and reports whether resp is a use_dpop_nonce
// challenge: a 400 token-endpoint error (§8) or a 401 with a DPoP
// WWW-Authenticate error (§9), carrying a new nonce.
func (k *DPoPKey) Observe(resp *http.Response) (challenge bool) {
	n := resp.Header.Get("DPoP-Nonce")
	if n == "" || resp.Request == nil || resp.Request.URL == nil {
		return false
	}
	k.mu.Lock()
	k.nonces[outbound.Origin(resp.Request.URL)] = n
	k.mu.Unlock()
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		for _, c := range ParseChallenges(resp.Header.Values("WWW-Authenticate")) {
			if c.Scheme == "dpop" && c.Params["error"] == "use_dpop_nonce" {
				return true
			}
		}
	case http.StatusBadRequest:
		return isNonceError(resp)
	}
	return false
}

// isNonceError reports a token endpoint error use_dpop_nonce, leaving the
// body readable.
func isNonceError(resp *http.Response) bool {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil {
		return false
	}
	var e struct {
		Error string `json:"error"`
	}
	return json.Unmarshal(b, &e) == nil && e.Error == "use_dpop_nonce"
}

// Authorize sets "Authorization: DPoP <token>" and a fresh proof on an MCP
// request (RFC 9449 §7.1).
func (k *DPoPKey) Authorize(req *http.Request, accessToken string, now time.Time) error {
	p, err := k.Proof(req.Method, req.URL.String(), accessToken, now)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", TokenTypeDPoP+" "+accessToken)
	req.Header.Set("DPoP", p)
	return nil
}

// SupportsDPoP reports whether the authorization server advertises DPoP
// (dpop_signing_alg_values_supported, RFC 9449 §5.1) with ES256.
func (m *ASMetadata) SupportsDPoP() bool {
	return m != nil && slices.Contains(m.DPoPSigningAlgValuesSupported, "ES256")
}

// DPoPClient returns a copy of hc whose POSTs to token endpoints carry a
// DPoP proof of k (RFC 9449 §5) and are retried once with the server's nonce
// on a use_dpop_nonce error (§8). With a nil k it returns hc.
func DPoPClient(hc *http.Client, k *DPoPKey, now func() time.Time) *http.Client {
	if k == nil {
		return hc
	}
	if now == nil {
		now = time.Now
	}
	c := *hc
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = &dpopTransport{base: base, key: k, now: now}
	return &c
}

type dpopTransport struct {
	base http.RoundTripper
	key  *DPoPKey
	now  func() time.Time
}

func (t *dpopTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodPost {
		return t.base.RoundTrip(req)
	}
	for attempt := 0; ; attempt++ {
		r := req.Clone(req.Context())
		if attempt > 0 {
			if req.GetBody == nil {
				return nil, fmt.Errorf("%w: cannot resend the token request", ErrTokenEndpoint)
			}
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			r.Body = body
		}
		p, err := t.key.Proof(r.Method, r.URL.String(), "", t.now())
		if err != nil {
			return nil, err
		}
		r.Header.Set("DPoP", p)
		resp, err := t.base.RoundTrip(r)
		if err != nil || attempt > 0 || !t.key.Observe(resp) {
			return resp, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}
