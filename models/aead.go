package models

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// The portal seals small secrets in one way, whatever keeps them (Sealer:
// a cookie or a session row; SecretBox: the database): AES-256-GCM with a
// random 96-bit nonce per value, written as nonce ‖ ciphertext ‖ tag and
// bound to a label (the additional data) that names what the value is for.

// newAEAD is AES-GCM under a 32-byte key.
func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealAEAD seals plain for label: nonce ‖ ciphertext ‖ tag.
func sealAEAD(aead cipher.AEAD, plain, label []byte) ([]byte, error) {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return aead.Seal(nonce, nonce, plain, label), nil
}

// errAEAD is what openAEAD reports for anything it cannot open.
var errAEAD = errors.New("sealed value does not open")

// openAEAD opens what sealAEAD sealed for label; errAEAD for a value too
// short, changed, sealed under another key or for another label.
func openAEAD(aead cipher.AEAD, sealed, label []byte) ([]byte, error) {
	n := aead.NonceSize()
	if len(sealed) < n+aead.Overhead() {
		return nil, errAEAD
	}
	plain, err := aead.Open(nil, sealed[:n], sealed[n:], label)
	if err != nil {
		return nil, errAEAD
	}
	return plain, nil
}
