package files

import (
	"crypto/rand"
	"strings"
)

// Limits of a stored name, PocketBase's: base up to 100 bytes, extension up
// to 20 characters after the dot, a 10-character random suffix. The longest
// result (132 bytes) is well inside schema.ValidFileName's 255.
const (
	maxBaseLen   = 100
	minBaseLen   = 3
	maxExtLen    = 20
	suffixLen    = 10
	nameAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// Sanitize turns a client's file name into a fresh stored name, as
// PocketBase does: "My Photo.JPG" becomes "my_photo_ab12cd34ef.jpg". The
// base is lowercased, every run of characters other than a-z and 0-9
// becomes one "_", it is cut to 100 bytes, and a base shorter than 3
// characters is padded with 10 random ones; then "_", 10 random [a-z0-9]
// and the lowercased extension (a-z0-9 only, at most 20) follow. Any
// directory part of the name is dropped. Every result passes
// schema.ValidFileName and is new: two calls never return the same name
// in practice (36^10 suffixes).
func Sanitize(originalName string) string {
	return sanitizeName(originalName, "")
}

// sanitizeName is Sanitize with a fallback extension (with its dot, from
// the sniffed content type) for names that have none.
func sanitizeName(originalName, fallbackExt string) string {
	// Browsers send a bare name, but some clients send a path (with
	// either separator); only the last element names the file.
	if i := strings.LastIndexAny(originalName, `/\`); i >= 0 {
		originalName = originalName[i+1:]
	}
	base, ext := originalName, ""
	if i := strings.LastIndexByte(originalName, '.'); i > 0 {
		base, ext = originalName[:i], cleanExt(originalName[i+1:])
	} else if i == 0 {
		// ".bashrc": a hidden name, not an extension.
		base = originalName[1:]
	}
	if ext == "" {
		ext = cleanExt(strings.TrimPrefix(fallbackExt, "."))
	}
	b := cleanBase(base)
	if len(b) < minBaseLen {
		b += randomString(suffixLen)
	}
	name := b + "_" + randomString(suffixLen)
	if ext != "" {
		name += "." + ext
	}
	return name
}

// cleanBase lowercases ASCII letters, keeps digits and joins everything
// else into single underscores, trimmed at both ends and cut to maxBaseLen.
func cleanBase(s string) string {
	var b strings.Builder
	b.Grow(min(len(s), maxBaseLen))
	pendingSep := false
	for i := 0; i < len(s) && b.Len() < maxBaseLen; i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			c += 'a' - 'A'
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		default:
			pendingSep = b.Len() > 0
			continue
		}
		if pendingSep {
			if b.Len()+1 >= maxBaseLen {
				break
			}
			b.WriteByte('_')
			pendingSep = false
		}
		b.WriteByte(c)
	}
	return b.String()
}

// cleanExt keeps the lowercased ASCII letters and digits of an extension,
// the last maxExtLen of them (the end of "tar.gz"-like names matters most).
func cleanExt(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteByte(c)
		}
	}
	out := b.String()
	if len(out) > maxExtLen {
		out = out[len(out)-maxExtLen:]
	}
	return out
}

// randomString returns n characters of nameAlphabet from crypto/rand,
// without modulo bias (bytes ≥ 252 are redrawn).
func randomString(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, n+n/4+4)
	for len(out) < n {
		// crypto/rand.Read never fails (it panics on a broken system
		// source since Go 1.24).
		_, _ = rand.Read(buf)
		for _, c := range buf {
			if c >= 252 {
				continue
			}
			out = append(out, nameAlphabet[c%36])
			if len(out) == n {
				break
			}
		}
	}
	return string(out)
}
