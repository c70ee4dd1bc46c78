//go:build !(linux || darwin || freebsd)

package models

import "errors"

// DiskFree is not measured on this system: readiness skips the check.
func DiskFree(string) (uint64, error) { return 0, errors.ErrUnsupported }
