package oauthtest

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"
)

// dpopProof is the part of a DPoP proof (RFC 9449 §4.2) the server checks.
type dpopProof struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath"`
	Nonce string `json:"nonce"`
}

// errNonce asks the client to retry with the server's nonce (RFC 9449 §9).
var errNonce = errors.New("use_dpop_nonce")

// checkDPoP verifies the DPoP proof of a request presenting token, bound to
// the key thumbprint jkt (RFC 9449 §4.3, §7.1): signature with the header's
// public key, typ, htm, htu, iat within 5 minutes, ath, a jti never seen
// before, and the key's thumbprint. nonce, when set, must be in the proof.
func (p *ProtectedMCP) checkDPoP(r *http.Request, token, jkt string) error {
	vals := r.Header.Values("DPoP")
	if len(vals) != 1 {
		return errors.New("want exactly one DPoP proof")
	}
	parts := strings.Split(vals[0], ".")
	if len(parts) != 3 {
		return errors.New("DPoP proof is not a JWS")
	}
	dec := base64.RawURLEncoding.DecodeString
	hb, err := dec(parts[0])
	if err != nil {
		return err
	}
	var hdr struct {
		Typ string `json:"typ"`
		Alg string `json:"alg"`
		JWK jwk    `json:"jwk"`
	}
	if err := json.Unmarshal(hb, &hdr); err != nil {
		return err
	}
	if hdr.Typ != "dpop+jwt" || hdr.Alg != "ES256" || hdr.JWK.Kty != "EC" {
		return fmt.Errorf("DPoP header typ %q alg %q kty %q", hdr.Typ, hdr.Alg, hdr.JWK.Kty)
	}
	if strings.Contains(string(hb), `"d"`) {
		return errors.New("DPoP jwk carries a private key")
	}
	key, err := hdr.JWK.publicKey()
	if err != nil {
		return err
	}
	pub := key.(*ecdsa.PublicKey)
	sig, err := dec(parts[2])
	if err != nil || len(sig) != 64 {
		return errors.New("bad DPoP signature encoding")
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return errors.New("bad DPoP signature")
	}
	pb, err := dec(parts[1])
	if err != nil {
		return err
	}
	var pr dpopProof
	if err := json.Unmarshal(pb, &pr); err != nil {
		return err
	}
	ath := sha256.Sum256([]byte(token))
	thumb := sha256.Sum256([]byte(fmt.Sprintf(`{"crv":%q,"kty":"EC","x":%q,"y":%q}`, hdr.JWK.Crv, hdr.JWK.X, hdr.JWK.Y)))
	switch {
	case pr.HTM != r.Method:
		return fmt.Errorf("htm %q", pr.HTM)
	case pr.HTU != p.URL:
		return fmt.Errorf("htu %q, want %q", pr.HTU, p.URL)
	case time.Since(time.Unix(pr.IAT, 0)).Abs() > 5*time.Minute:
		return errors.New("iat out of window")
	case pr.ATH != base64.RawURLEncoding.EncodeToString(ath[:]):
		return errors.New("ath does not match the token")
	case base64.RawURLEncoding.EncodeToString(thumb[:]) != jkt:
		return errors.New("proof key is not the key the token is bound to")
	case pr.JTI == "":
		return errors.New("no jti")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.jtis[pr.JTI] {
		return errors.New("replayed DPoP proof")
	}
	p.jtis[pr.JTI] = true
	if p.nonce != "" && pr.Nonce != p.nonce {
		return errNonce
	}
	return nil
}
