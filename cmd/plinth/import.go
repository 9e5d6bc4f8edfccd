package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"

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
	// Progress on stderr, one line rewritten per collection.
	progress := func(coll string, done, total int) {
		fmt.Fprintf(stderr, "\r  %-24s %d/%d records", coll, done, total)
		if done >= total {
			fmt.Fprintln(stderr)
		}
	}
	rep, err := pbimport.Import(ctx, app.Store(), app.Files(), rest[0], progress)
	if err != nil {
		return err
	}
	settingsNote := importSettings(ctx, app, rest[0])
	fmt.Fprintf(stdout, "Imported %d collections and %d files from %s (%s).\n", rep.Collections, rep.Files, rest[0], settingsNote)
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

// importSettings moves PocketBase's settings in through the settings API,
// which checks them and seals the SMTP password. Keys Plinth has no
// setting for (meta.hideControls, say) are left out and named; a
// section the API refuses (an s3 bucket that does not answer) is named,
// and the others still apply.
func importSettings(ctx context.Context, app *plinth.App, dir string) string {
	raw, err := pbimport.Settings(ctx, dir)
	if err != nil {
		return "settings not imported: " + err.Error()
	}
	if raw == nil {
		return "no settings"
	}
	known, err := json.Marshal(app.Settings())
	if err != nil {
		return "settings not imported: " + err.Error()
	}
	raw, dropped, err := pbimport.KeepKnown(raw, known)
	if err != nil {
		return "settings not imported: " + err.Error()
	}
	var sections map[string]json.RawMessage
	if err := json.Unmarshal(raw, &sections); err != nil {
		return "settings not imported: " + err.Error()
	}
	var failed []string
	for _, name := range slices.Sorted(maps.Keys(sections)) {
		patch, _ := json.Marshal(map[string]json.RawMessage{name: sections[name]})
		if _, err := app.PatchSettings(ctx, patch); err != nil {
			failed = append(failed, name+" ("+err.Error()+")")
		}
	}
	note := "settings imported"
	if len(dropped) > 0 {
		note += "; no such setting here: " + strings.Join(dropped, ", ")
	}
	if len(failed) > 0 {
		note += "; refused: " + strings.Join(failed, ", ")
	}
	return note
}
