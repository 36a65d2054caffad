//go:build unix

package devserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

const lockFileName = "temporal.lock"

// lockDataDir takes an exclusive, non-blocking flock on DataDir/temporal.lock so
// that two servers (in this process or another) never share one database. The
// kernel drops the lock if the process dies.
func lockDataDir(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFileName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("devserver: open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("devserver: data dir %s is in use by another dev server", dir)
		}
		return nil, fmt.Errorf("devserver: lock %s: %w", path, err)
	}
	return f, nil
}

func unlockDataDir(f *os.File) error {
	// Closing the descriptor releases the flock.
	if err := f.Close(); err != nil {
		return fmt.Errorf("release data dir lock: %w", err)
	}
	return nil
}
