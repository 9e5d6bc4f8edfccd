package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/pbimport"
)

// runImport is `plinth import pocketbase PB_DATA [flags]`: a stopped
// PocketBase's pb_data moved into this instance's database and files.
func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "pocketbase" {
		fmt.Fprint(stderr, usage)
		return errors.New("import: expected 'pocketbase PB_DATA'")
	}
	cfg, log, rest, err := parseFlags("import pocketbase", args[1:], getenv, stderr)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return errors.New("import pocketbase: expected the PocketBase data directory (pb_data), once")
	}
	app, err := plinth.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()
	rep, err := pbimport.Import(ctx, app.Store(), app.Files(), rest[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Imported %d collections and %d files from %s.\n", rep.Collections, rep.Files, rest[0])
	names := make([]string, 0, len(rep.Records))
	for n := range rep.Records {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(stdout, "  %-24s %d records\n", n, rep.Records[n])
	}
	for _, s := range rep.Skipped {
		fmt.Fprintf(stdout, "  skipped: %s\n", s)
	}
	return nil
}
