package models

import (
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// SecretBox seals the secrets the portal must keep in its database and use
// again (the clusters' bearer tokens) with AES-256-GCM, under the key of
// PORTAL_SECRET_KEY. A sealed value reads
//
//	sealed:v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>
//
// with a random 96-bit nonce per value; the key id (the first 8 hex digits
// of SHA-256 over a label and the key) tells a wrong key from damaged data
// without revealing the key. The version names the format, so that another
// one can be added beside it.
type SecretBox struct {
	aead  cipher.AEAD
	keyID string
}

// SecretKeySize is the length of the key in bytes.
const SecretKeySize = 32

const (
	sealedPrefix = "sealed:v1:"
	sealedAAD    = "kaiportal sealed secret v1"
)

// ErrSecretKey is returned when a sealed value cannot be opened: no key, a
// different key, or damaged data.
var ErrSecretKey = errors.New("cannot open a sealed secret with PORTAL_SECRET_KEY")

// NewSecretBox returns a box sealing with key (SecretKeySize bytes).
func NewSecretBox(key []byte) (*SecretBox, error) {
	if len(key) != SecretKeySize {
		return nil, fmt.Errorf("secret key: want %d bytes, got %d", SecretKeySize, len(key))
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return &SecretBox{aead: aead, keyID: SecretKeyID(key)}, nil
}

// SecretKeyID names a key without revealing it, for messages and logs.
func SecretKeyID(key []byte) string {
	sum := sha256.Sum256(append([]byte("kaiportal secret key id\x00"), key...))
	return hex.EncodeToString(sum[:4])
}

// KeyID is the id of the box's key; "" for a nil box.
func (b *SecretBox) KeyID() string {
	if b == nil {
		return ""
	}
	return b.keyID
}

// IsSealed reports whether a stored value is in the sealed format (any
// version), as opposed to a plaintext written before sealing existed.
func IsSealed(s string) bool { return strings.HasPrefix(s, "sealed:") }

// Seal returns plain sealed; "" stays "" (no secret). A nil box has no key:
// it seals nothing but "".
func (b *SecretBox) Seal(plain string) (string, error) {
	if plain == "" {
		return "", nil
	}
	if b == nil {
		return "", fmt.Errorf("seal: no PORTAL_SECRET_KEY: %w", ErrSecretKey)
	}
	out, err := sealAEAD(b.aead, []byte(plain), []byte(sealedAAD))
	if err != nil {
		return "", err
	}
	return sealedPrefix + b.keyID + ":" + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open returns the plaintext of a sealed value; "" stays "". A value sealed
// under another key, a damaged one, a plaintext, or any value for a nil box
// is an error matching ErrSecretKey that says which.
func (b *SecretBox) Open(sealed string) (string, error) {
	if sealed == "" {
		return "", nil
	}
	rest, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		if IsSealed(sealed) {
			return "", fmt.Errorf("open: unknown sealed format %q: %w", strings.Join(strings.SplitN(sealed, ":", 3)[:2], ":"), ErrSecretKey)
		}
		return "", fmt.Errorf("open: the value is not sealed (stored before sealing; the portal seals such values at start): %w", ErrSecretKey)
	}
	id, data, ok := strings.Cut(rest, ":")
	if !ok {
		return "", fmt.Errorf("open: damaged sealed value: %w", ErrSecretKey)
	}
	if b == nil {
		return "", fmt.Errorf("open: sealed with key %s, but PORTAL_SECRET_KEY is not set: %w", id, ErrSecretKey)
	}
	if id != b.keyID {
		return "", fmt.Errorf("open: sealed with key %s, but PORTAL_SECRET_KEY is key %s: %w", id, b.keyID, ErrSecretKey)
	}
	raw, err := base64.RawURLEncoding.DecodeString(data)
	if err != nil || len(raw) < b.aead.NonceSize()+b.aead.Overhead() {
		return "", fmt.Errorf("open: damaged sealed value: %w", ErrSecretKey)
	}
	plain, err := openAEAD(b.aead, raw, []byte(sealedAAD))
	if err != nil {
		return "", fmt.Errorf("open: sealed value fails authentication (damaged, or a key with the same id): %w", ErrSecretKey)
	}
	return string(plain), nil
}
