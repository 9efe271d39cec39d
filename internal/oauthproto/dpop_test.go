package oauthproto

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// decodeProof verifies a proof's ES256 signature with the key in its own
// header and returns header and claims.
func decodeProof(t *testing.T, p string) (hdr map[string]any, claims map[string]any) {
	t.Helper()
	parts := strings.Split(p, ".")
	if len(parts) != 3 {
		t.Fatalf("proof %q is not a compact JWS", p)
	}
	for i, v := range []*map[string]any{&hdr, &claims} {
		b, err := b64.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, v) != nil {
			t.Fatalf("part %d: %v", i, err)
		}
	}
	jwk := hdr["jwk"].(map[string]any)
	x, _ := b64.DecodeString(jwk["x"].(string))
	y, _ := b64.DecodeString(jwk["y"].(string))
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
	if err != nil {
		t.Fatalf("jwk: %v", err)
	}
	sig, _ := b64.DecodeString(parts[2])
	d := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(pub, d[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("proof signature does not verify with its jwk")
	}
	if _, ok := jwk["d"]; ok {
		t.Fatal("proof header carries the private key")
	}
	return hdr, claims
}

func TestDPoPProof(t *testing.T) {
	k, err := NewDPoPKey()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	p1, err := k.Proof("POST", "https://mcp.example.com/mcp?x=1#f", "AT", now)
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := k.Proof("POST", "https://mcp.example.com/mcp", "AT", now)
	hdr, c := decodeProof(t, p1)
	_, c2 := decodeProof(t, p2)
	ath := sha256.Sum256([]byte("AT"))
	if hdr["typ"] != "dpop+jwt" || hdr["alg"] != "ES256" || c["htm"] != "POST" || c["htu"] != "https://mcp.example.com/mcp" ||
		c["iat"] != float64(now.Unix()) || c["ath"] != b64.EncodeToString(ath[:]) || c["nonce"] != nil {
		t.Fatalf("header %v claims %v", hdr, c)
	}
	if c["jti"] == "" || c["jti"] == c2["jti"] {
		t.Fatalf("jti %v and %v: want a fresh one per proof", c["jti"], c2["jti"])
	}
	// A server nonce (RFC 9449 §9) goes into the next proofs for its origin only.
	u, _ := url.Parse("https://mcp.example.com/mcp")
	resp := &http.Response{StatusCode: 401, Request: &http.Request{URL: u}, Header: http.Header{
		"Www-Authenticate": {`DPoP error="use_dpop_nonce"`}, "Dpop-Nonce": {"n-1"}}}
	if !k.Observe(resp) {
		t.Fatal("use_dpop_nonce challenge not recognised")
	}
	p3, _ := k.Proof("GET", "https://mcp.example.com/other", "", now)
	p4, _ := k.Proof("GET", "https://as.example.com/token", "", now)
	if _, c3 := decodeProof(t, p3); c3["nonce"] != "n-1" || c3["ath"] != nil {
		t.Fatalf("claims %v: want the nonce and no ath", c3)
	}
	if _, c4 := decodeProof(t, p4); c4["nonce"] != nil {
		t.Fatal("nonce of one server sent to another")
	}
	// The sealed form restores the same key.
	der, _ := k.MarshalBinary()
	k2, err := ParseDPoPKey(der)
	if err != nil || k2.Thumbprint() != k.Thumbprint() || len(k.Thumbprint()) != 43 {
		t.Fatalf("round trip: %v", err)
	}
	if _, err := ParseDPoPKey([]byte("junk")); !errors.Is(err, ErrSigningKey) {
		t.Fatalf("junk key: %v", err)
	}
}

// The token endpoint's use_dpop_nonce error (RFC 9449 §8) is answered by
// one retry with the nonce; the request body is sent again unchanged.
func TestDPoPClientRetriesWithASNonce(t *testing.T) {
	as := newFakeServer(t)
	var proofs []string
	as.handle("/token", func(w http.ResponseWriter, r *http.Request) {
		proofs = append(proofs, r.Header.Get("DPoP"))
		w.Header().Set("Content-Type", "application/json")
		if len(proofs) == 1 {
			w.Header().Set("DPoP-Nonce", "as-nonce")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"use_dpop_nonce"}`))
			return
		}
		w.Write([]byte(`{"access_token":"AT","token_type":"DPoP","expires_in":60}`))
	})
	k, _ := NewDPoPKey()
	meta := &ASMetadata{Issuer: as.URL, TokenEndpoint: as.URL + "/token"}
	tok, err := ClientCredentials(t.Context(), DPoPClient(testClient(), k, nil), ClientInfo{ClientID: "c", ClientSecret: "s", AuthMethod: AuthMethodBasic}, meta, "https://mcp/x", []string{"a"})
	if err != nil || tok.TokenType != TokenTypeDPoP {
		t.Fatalf("token %+v, %v", tok, err)
	}
	reqs := as.requests("/token")
	if len(reqs) != 2 || reqs[1].Form.Get("grant_type") != "client_credentials" || reqs[1].Form.Get("resource") != "https://mcp/x" {
		t.Fatalf("%d token requests, last form %v", len(reqs), reqs[len(reqs)-1].Form)
	}
	_, c1 := decodeProof(t, proofs[0])
	_, c2 := decodeProof(t, proofs[1])
	if c1["nonce"] != nil || c2["nonce"] != "as-nonce" || c2["htu"] != as.URL+"/token" {
		t.Fatalf("first proof %v, retry %v", c1, c2)
	}
}

func BenchmarkDPoPProof(b *testing.B) {
	k, _ := NewDPoPKey()
	now := time.Now()
	for b.Loop() {
		if _, err := k.Proof("POST", "https://mcp.example.com/mcp", "access-token", now); err != nil {
			b.Fatal(err)
		}
	}
}
