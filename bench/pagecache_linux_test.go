package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// dropPageCache writes path's pages back and asks the kernel to drop them
// from the page cache, so that the next start reads the binary from disk
// like the first start after a reboot (see TestIdleRSS).
func dropPageCache(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return err
	}
	return unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
