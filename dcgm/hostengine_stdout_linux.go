package dcgm

import (
	"os"
	"syscall"
)

// protectStdout gives the reader protocol a private copy of file descriptor
// 1 and points descriptor 1 at stderr, so that whatever the C library
// prints goes to stderr instead of into the protocol.
func protectStdout() (*os.File, error) {
	fd, err := syscall.Dup(1)
	if err != nil {
		return nil, err
	}
	syscall.CloseOnExec(fd)
	if err := syscall.Dup3(2, 1, 0); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return os.NewFile(uintptr(fd), "dcgm-reader-protocol"), nil
}
