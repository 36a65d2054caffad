//go:build !unix

package devserver

import "os"

// lockDataDir is a no-op where flock is unavailable: running two servers on
// one DataDir is then not prevented.
func lockDataDir(string) (*os.File, error) { return nil, nil }

func unlockDataDir(*os.File) error { return nil }
