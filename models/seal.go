package models

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// ErrUnsealed is what Open reports for a value it did not seal, that was
// changed, or that was sealed under another key or for another purpose.
var ErrUnsealed = errors.New("sealed value does not open")

// Sealer encrypts and authenticates small secrets with AES-256-GCM: the
// provider's tokens kept on a session row, and the sign-in request kept in
// a cookie. Its key is derived from the portal's session key and a purpose,
// so that a value sealed for one use never opens for another.
type Sealer struct {
	aead    cipher.AEAD
	purpose []byte
}

// NewSealer derives a sealer for purpose from key (PORTAL_SESSION_KEY).
func NewSealer(key []byte, purpose string) (*Sealer, error) {
	if len(key) == 0 {
		return nil, errors.New("seal: empty key")
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("kaiportal seal v1 " + purpose))
	aead, err := newAEAD(m.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Sealer{aead: aead, purpose: []byte(purpose)}, nil
}

// Seal returns plain encrypted and authenticated, base64url encoded.
func (s *Sealer) Seal(plain []byte) string {
	out, err := sealAEAD(s.aead, plain, s.purpose)
	if err != nil {
		panic(err) // the kernel's generator does not fail
	}
	return base64.RawURLEncoding.EncodeToString(out)
}

// Open returns what Seal sealed, or ErrUnsealed.
func (s *Sealer) Open(sealed string) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return nil, ErrUnsealed
	}
	plain, err := openAEAD(s.aead, b, s.purpose)
	if err != nil {
		return nil, ErrUnsealed
	}
	return plain, nil
}
