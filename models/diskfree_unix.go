//go:build linux || darwin || freebsd

package models

import "syscall"

// DiskFree reports the bytes free to unprivileged users in the file system
// that holds dir.
func DiskFree(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}
