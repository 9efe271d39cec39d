package oauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrSealBroken is matched when sealed data cannot be opened: wrong key,
// tampering, or data sealed for another user, agent or purpose.
var ErrSealBroken = errors.New("oauth: sealed data cannot be opened")

// KeySize is the size of an encryption key: AES-256.
const KeySize = 32

// sealVersion starts every sealed value: version, then the 4-byte id of
// the key that sealed it, then the GCM nonce and ciphertext.
const (
	sealVersion = 1
	keyIDSize   = 4
)

// Sealer encrypts and authenticates small records with AES-256-GCM. The
// associated data binds a record to what it is for (user, agent, issuer,
// purpose), so a sealed value moved elsewhere does not open.
//
// A Sealer holds one or more keys: the first seals, every one opens. A
// sealed value names the key that sealed it, so rotating keys is: put the
// new key first, keep the old ones until what they sealed is rewritten
// (values opened with an old key are sealed again with the first one on
// their next write) or has expired.
type Sealer struct{ keys []sealKey }

type sealKey struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
}

// NewSealer returns a Sealer that seals with key and opens with key and
// any of older.
func NewSealer(key []byte, older ...[]byte) (*Sealer, error) {
	s := &Sealer{}
	for i, k := range append([][]byte{key}, older...) {
		if len(k) != KeySize {
			return nil, fmt.Errorf("oauth: encryption key %d must be %d bytes, got %d", i+1, KeySize, len(k))
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("oauth: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("oauth: %w", err)
		}
		s.keys = append(s.keys, sealKey{id: keyID(k), aead: aead})
	}
	return s, nil
}

// keyID names a key without revealing it.
func keyID(k []byte) [keyIDSize]byte {
	h := sha256.Sum256(append([]byte("ai-agent seal key id\x00"), k...))
	return [keyIDSize]byte(h[:keyIDSize])
}

// KeyID is the id of the sealing key (hex), for logs.
func (s *Sealer) KeyID() string { return hex.EncodeToString(s.keys[0].id[:]) }

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

// ParseKeys decodes a comma-separated list of keys (OAUTH_ENCRYPTION_KEY):
// the first seals, all open.
func ParseKeys(s string) ([][]byte, error) {
	var keys [][]byte
	for i, part := range strings.Split(s, ",") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		k, err := ParseKey(part)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i+1, err)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("oauth: no encryption key")
	}
	return keys, nil
}

// GenerateKey returns a random key. A key that is not kept (the demo's)
// loses every stored token at restart.
func GenerateKey() []byte {
	k := make([]byte, KeySize)
	_, _ = rand.Read(k)
	return k
}

// Seal encrypts plain with the first key, bound to aad.
func (s *Sealer) Seal(plain, aad []byte) []byte {
	k := s.keys[0]
	head := 1 + keyIDSize
	n := k.aead.NonceSize()
	out := make([]byte, head+n, head+n+len(plain)+k.aead.Overhead())
	out[0] = sealVersion
	copy(out[1:head], k.id[:])
	_, _ = rand.Read(out[head:])
	return k.aead.Seal(out, out[head:head+n], plain, aad)
}

// Open decrypts what Seal produced with the same aad, with any key.
func (s *Sealer) Open(sealed, aad []byte) ([]byte, error) {
	p, _, err := s.open(sealed, aad)
	return p, err
}

// open also reports whether the value should be sealed again: it was
// sealed by an older key (or before values named their key).
func (s *Sealer) open(sealed, aad []byte) (plain []byte, stale bool, err error) {
	head := 1 + keyIDSize
	if len(sealed) > head && sealed[0] == sealVersion {
		for i, k := range s.keys {
			if [keyIDSize]byte(sealed[1:head]) != k.id {
				continue
			}
			if p, ok := openWith(k.aead, sealed[head:], aad); ok {
				return p, i > 0, nil
			}
		}
	}
	// A value sealed before values named their key: nonce and ciphertext.
	for _, k := range s.keys {
		if p, ok := openWith(k.aead, sealed, aad); ok {
			return p, true, nil
		}
	}
	return nil, false, ErrSealBroken
}

func openWith(aead cipher.AEAD, sealed, aad []byte) ([]byte, bool) {
	n := aead.NonceSize()
	if len(sealed) < n+aead.Overhead() {
		return nil, false
	}
	p, err := aead.Open(nil, sealed[:n], sealed[n:], aad)
	return p, err == nil
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
