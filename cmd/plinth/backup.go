package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/backup"
)

// runBackup is `plinth backup ARCHIVE.zip [flags]`: a portable archive of
// the instance, made online (a running server may go on writing).
func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, log, rest, err := parseFlags("backup", args, getenv, stderr)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return errors.New("backup: expected the archive to write (a .zip file)")
	}
	app, err := plinth.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()
	// Written beside the target, then renamed: a failed backup leaves no
	// half archive under the name.
	tmp, err := os.CreateTemp(filepath.Dir(rest[0]), ".plinth-backup-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	m, err := backup.Write(ctx, app.Store(), app.Files(), tmp, plinth.Version)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), rest[0]); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	records := 0
	for _, n := range m.Records {
		records += n
	}
	fmt.Fprintf(stdout, "Wrote %s: %d collections, %d records, %d files (from %s).\n", rest[0], m.Collections, records, m.Files, m.Dialect)
	return nil
}

// runRestore is `plinth restore ARCHIVE.zip [flags]`: the archive into a
// new data directory (--dir) or an empty PostgreSQL database (--db),
// whichever database the archive was made on.
func runRestore(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, log, rest, err := parseFlags("restore", args, getenv, stderr)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return errors.New("restore: expected the archive to read")
	}
	f, err := os.Open(rest[0])
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	app, err := plinth.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()
	m, err := backup.Restore(ctx, app.Store(), app.Files(), f, info.Size())
	if err != nil {
		return err
	}
	records := 0
	for _, n := range m.Records {
		records += n
	}
	fmt.Fprintf(stdout, "Restored %s (made on %s by Plinth %s at %s): %d collections, %d records, %d files. Start the server on it with the same flags.\n",
		rest[0], m.Dialect, m.Version, m.Created, m.Collections, records, m.Files)
	return nil
}
