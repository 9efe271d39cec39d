package oauthproto

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
)

// ErrSigningKey is matched by errors about a key the agent signs JWTs with
// (a private_key_jwt client key, a DPoP key).
var ErrSigningKey = errors.New("oauth: unusable signing key")

var b64 = base64.RawURLEncoding

// signer signs compact JWS (RFC 7515) with an ECDSA or RSA key.
type signer struct {
	key crypto.Signer
	alg string
}

// newSigner checks that alg fits key. An empty alg picks ES256/ES384/ES512
// by curve, RS256 for RSA.
func newSigner(key crypto.Signer, alg string) (signer, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		want := map[int]string{256: "ES256", 384: "ES384", 521: "ES512"}[k.Curve.Params().BitSize]
		if alg == "" {
			alg = want
		}
		if alg != want || want == "" {
			return signer{}, fmt.Errorf("%w: algorithm %q does not fit the EC key", ErrSigningKey, alg)
		}
	case *rsa.PrivateKey:
		if alg == "" {
			alg = "RS256"
		}
		switch alg {
		case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		default:
			return signer{}, fmt.Errorf("%w: algorithm %q does not fit the RSA key", ErrSigningKey, alg)
		}
	default:
		return signer{}, fmt.Errorf("%w: only EC and RSA keys are supported", ErrSigningKey)
	}
	return signer{key: key, alg: alg}, nil
}

// ParseSigningKey reads a PEM private key (PKCS#8, SEC 1 "EC PRIVATE KEY" or
// PKCS#1 "RSA PRIVATE KEY").
func ParseSigningKey(pemData []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(pemData)
	if blk == nil {
		return nil, fmt.Errorf("%w: no PEM block", ErrSigningKey)
	}
	var k any
	var err error
	switch blk.Type {
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(blk.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
	default:
		k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSigningKey, err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%w: not a signing key", ErrSigningKey)
	}
	if _, err := newSigner(s, ""); err != nil {
		return nil, err
	}
	return s, nil
}

func (s signer) hash() (crypto.Hash, hash.Hash) {
	switch s.alg[2:] {
	case "384":
		return crypto.SHA384, sha512.New384()
	case "512":
		return crypto.SHA512, sha512.New()
	}
	return crypto.SHA256, sha256.New()
}

// sign returns header.claims.signature; alg is added to the header.
func (s signer) sign(header, claims map[string]any) (string, error) {
	header["alg"] = s.alg
	hb, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := b64.EncodeToString(hb) + "." + b64.EncodeToString(cb)
	ch, h := s.hash()
	h.Write([]byte(input))
	digest := h.Sum(nil)
	var sig []byte
	switch k := s.key.(type) {
	case *ecdsa.PrivateKey:
		r, ss, err := ecdsa.Sign(rand.Reader, k, digest)
		if err != nil {
			return "", err
		}
		n := (k.Curve.Params().BitSize + 7) / 8
		sig = make([]byte, 2*n) // RFC 7518 §3.4: R || S, fixed width
		r.FillBytes(sig[:n])
		ss.FillBytes(sig[n:])
	case *rsa.PrivateKey:
		if s.alg[0] == 'P' {
			sig, err = rsa.SignPSS(rand.Reader, k, ch, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			sig, err = rsa.SignPKCS1v15(rand.Reader, k, ch, digest)
		}
		if err != nil {
			return "", err
		}
	}
	return input + "." + b64.EncodeToString(sig), nil
}

// publicJWK is the public half of an EC key as a JWK (RFC 7517, RFC 7518
// §6.2): x and y are the halves of the uncompressed point 0x04||X||Y
// (SEC 1 §2.3.3), each as long as the curve's field.
func publicJWK(k *ecdsa.PublicKey) (map[string]any, error) {
	b, err := k.Bytes()
	if err != nil {
		return nil, fmt.Errorf("jwk: %w", err)
	}
	n := (len(b) - 1) / 2
	return map[string]any{"kty": "EC", "crv": k.Curve.Params().Name, "x": b64.EncodeToString(b[1 : 1+n]), "y": b64.EncodeToString(b[1+n:])}, nil
}

// randomID is a 128-bit random JWT ID.
func randomID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return b64.EncodeToString(b), nil
}
