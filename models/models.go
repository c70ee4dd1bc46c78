// Package models holds the portal's domain types, the rules that belong to
// them (roles, sessions, the audit chain, deadlines) and the store functions
// that load and save them with gorm. Rules are pure functions of their inputs
// and the time they are given; nothing here reads the clock.
package models

import (
	"errors"
	"slices"
	"strings"
)

// Domain errors that handlers map to HTTP answers.
var (
	ErrNotFound          = errors.New("not found")
	ErrForbidden         = errors.New("forbidden")
	ErrInvalidTransition = errors.New("invalid transition")
	ErrConflict          = errors.New("conflict")
	ErrInvalid           = errors.New("invalid input")
)

// FieldsError refuses input field by field: Fields maps each refused field
// to the message ID that says why. errors.Is(err, ErrInvalid) holds.
type FieldsError struct{ Fields FieldErrors }

func (e *FieldsError) Error() string {
	fields := make([]string, 0, len(e.Fields))
	for f, msg := range e.Fields {
		fields = append(fields, f+": "+msg)
	}
	slices.Sort(fields)
	return "invalid input: " + strings.Join(fields, ", ")
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldsError) Is(target error) bool { return target == ErrInvalid }
