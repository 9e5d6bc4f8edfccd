package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/plinthdev/plinth"
)

const migrateUsage = `Usage:
  plinth migrate up                apply the pending migrations
  plinth migrate down [N]          revert the last N applied migrations (default 1)
  plinth migrate status            list the migrations and whether each is applied
  plinth migrate create NAME       write a new empty migration file
  plinth migrate collections       write a migration that creates every collection as it is now

Flags are serve's (--dir, --db, --migrations-dir, ...); see 'plinth serve -h'.
`

// defaultMigrationsDir is the "migrations" directory next to the data
// directory, unless --migrations-dir says otherwise.
func defaultMigrationsDir(cfg *plinth.Config) {
	if cfg.MigrationsDir == "" {
		cfg.MigrationsDir = filepath.Join(filepath.Dir(filepath.Clean(cfg.DataDir)), "migrations")
	}
}

// resolveAutomigrate turns --automigrate auto|on|off into the config:
// auto is on when the migrations directory exists.
func resolveAutomigrate(cfg *plinth.Config, mode string) error {
	defaultMigrationsDir(cfg)
	switch strings.ToLower(mode) {
	case "auto", "":
		st, err := os.Stat(cfg.MigrationsDir)
		cfg.Automigrate = err == nil && st.IsDir()
	case "on", "true", "1":
		cfg.Automigrate = true
	case "off", "false", "0":
		cfg.Automigrate = false
	default:
		return fmt.Errorf("invalid --automigrate %q: use auto, on or off", mode)
	}
	return nil
}

func runMigrate(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, migrateUsage)
		return errors.New("migrate: missing up, down, status, create or collections")
	}
	cfg, log, rest, err := parseFlags("migrate "+args[0], args[1:], getenv, stderr)
	if err != nil {
		return err
	}
	defaultMigrationsDir(&cfg)
	cfg.Automigrate = false
	app, err := plinth.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer app.Close()
	m := app.Migrations()
	switch {
	case args[0] == "up" && len(rest) == 0:
		done, err := m.Up(ctx)
		for _, n := range done {
			fmt.Fprintf(stdout, "Applied %s\n", n)
		}
		if err != nil {
			return err
		}
		if len(done) == 0 {
			fmt.Fprintln(stdout, "No new migrations to apply.")
		}
	case args[0] == "down" && len(rest) <= 1:
		n := 1
		if len(rest) == 1 {
			if n, err = strconv.Atoi(rest[0]); err != nil || n < 1 {
				return fmt.Errorf("migrate down: N must be a positive number, not %q", rest[0])
			}
		}
		done, err := m.Down(ctx, n)
		for _, name := range done {
			fmt.Fprintf(stdout, "Reverted %s\n", name)
		}
		if err != nil {
			return err
		}
		if len(done) == 0 {
			fmt.Fprintln(stdout, "No applied migrations to revert.")
		}
	case args[0] == "status" && len(rest) == 0:
		list, err := m.Status(ctx)
		if err != nil {
			return err
		}
		pending := 0
		for _, s := range list {
			mark := "pending"
			if s.Applied {
				mark = "applied " + s.At.UTC().Format("2006-01-02 15:04:05Z")
			} else {
				pending++
			}
			kind := ""
			if s.Go {
				kind = " (Go)"
			}
			fmt.Fprintf(stdout, "%-60s %s%s\n", s.Name, mark, kind)
		}
		fmt.Fprintf(stdout, "%d migrations, %d pending, in %s\n", len(list), pending, m.Dir)
	case args[0] == "create" && len(rest) == 1:
		path, err := m.Create(rest[0])
		if err != nil {
			return fmt.Errorf("migrate create: %w", err)
		}
		fmt.Fprintf(stdout, "Created %s\n", path)
	case args[0] == "collections" && len(rest) == 0:
		path, err := m.Snapshot(ctx)
		if err != nil {
			return fmt.Errorf("migrate collections: %w", err)
		}
		fmt.Fprintf(stdout, "Created %s (marked applied on this database)\n", path)
	default:
		fmt.Fprint(stderr, migrateUsage)
		return fmt.Errorf("migrate: unexpected %q", strings.Join(args, " "))
	}
	return nil
}

// automigrateMode reads --automigrate (or PLINTH_AUTOMIGRATE) from serve's
// arguments; parseFlags declares the flag so that it parses and shows in
// the help.
func automigrateMode(args []string, getenv func(string) string) string {
	mode := getenv("PLINTH_AUTOMIGRATE")
	for i, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name != "automigrate" || !strings.HasPrefix(a, "-") {
			continue
		}
		if hasValue {
			mode = value
		} else if i+1 < len(args) {
			mode = args[i+1]
		}
	}
	return mode
}
