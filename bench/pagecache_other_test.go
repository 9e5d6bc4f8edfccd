//go:build !linux

package main

// dropPageCache does nothing off Linux, where TestIdleRSS skips anyway.
func dropPageCache(string) error { return nil }
