// Package models holds the portal's domain types, the rules that belong to
// them (roles, sessions, the audit chain, deadlines) and the store functions
// that load and save them with gorm. Rules are pure functions of their inputs
// and the time they are given; nothing here reads the clock.
package models

import (
	"errors"
)

// Domain errors that handlers map to HTTP answers.
var (
	ErrNotFound          = errors.New("not found")
	ErrForbidden         = errors.New("forbidden")
	ErrInvalidTransition = errors.New("invalid transition")
	ErrConflict          = errors.New("conflict")
	ErrInvalid           = errors.New("invalid input")
)
