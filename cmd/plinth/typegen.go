package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/typegen"
)

// runTypegen is `plinth typegen [--out FILE] [flags]`: TypeScript types of
// the collections for the pocketbase JS SDK, to stdout or FILE.
func runTypegen(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	out := "-"
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if v, ok := strings.CutPrefix(strings.TrimLeft(a, "-"), "out="); ok && strings.HasPrefix(a, "-") {
			out = v
			continue
		}
		if a == "--out" || a == "-out" {
			if i+1 >= len(args) {
				return errors.New("typegen: --out needs a file name")
			}
			out = args[i+1]
			i++
			continue
		}
		rest = append(rest, a)
	}
	cfg, log, extra, err := parseFlags("typegen", rest, getenv, stderr)
	if err != nil {
		return err
	}
	if len(extra) > 0 {
		return fmt.Errorf("typegen: unexpected %q", extra)
	}
	app, err := plinth.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()
	ts := typegen.TypeScript(app.Store().Schema().Collections())
	if out == "-" {
		_, err := stdout.Write(ts)
		return err
	}
	if err := os.WriteFile(out, ts, 0o644); err != nil {
		return fmt.Errorf("typegen: %w", err)
	}
	fmt.Fprintf(stderr, "Wrote the types of %d collections to %s\n", len(app.Store().Schema().Collections()), out)
	return nil
}
