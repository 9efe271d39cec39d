package oauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// ErrSealBroken is matched when sealed data cannot be opened: wrong key,
// tampering, or data sealed for another user, agent or purpose.
var ErrSealBroken = errors.New("oauth: sealed data cannot be opened")

// KeySize is the size of an encryption key: AES-256.
const KeySize = 32

// Sealer encrypts and authenticates small records with AES-256-GCM. The
// associated data binds a record to what it is for (user, agent, issuer,
// purpose), so a sealed value moved elsewhere does not open.
type Sealer struct{ aead cipher.AEAD }

// NewSealer returns a Sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("oauth: encryption key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// ParseKey decodes a base64 (standard or URL alphabet, padded or not) key.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != KeySize {
				return nil, fmt.Errorf("oauth: encryption key must decode to %d bytes, got %d", KeySize, len(k))
			}
			return k, nil
		}
	}
	return nil, errors.New("oauth: encryption key is not base64")
}

// GenerateKey returns a random key (for the demo and tests only: a key that
// is not kept loses every stored token at restart).
func GenerateKey() []byte {
	k := make([]byte, KeySize)
	_, _ = rand.Read(k)
	return k
}

// Seal encrypts plain, bound to aad.
func (s *Sealer) Seal(plain, aad []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	_, _ = rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plain, aad)
}

// Open decrypts what Seal produced with the same aad.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, ErrSealBroken
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], aad)
	if err != nil {
		return nil, ErrSealBroken
	}
	return plain, nil
}

// SealString seals to base64url text (for cookies).
func (s *Sealer) SealString(plain string, aad []byte) string {
	return base64.RawURLEncoding.EncodeToString(s.Seal([]byte(plain), aad))
}

// OpenString opens what SealString produced.
func (s *Sealer) OpenString(sealed string, aad []byte) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return "", ErrSealBroken
	}
	p, err := s.Open(b, aad)
	return string(p), err
}
