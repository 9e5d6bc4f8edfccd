// Package migrate runs an application's migrations: JSON files in a
// directory (written by `plinth migrate create`, `migrate collections` and
// automigrate) and Go migrations registered by programs that embed Plinth.
//
// A migration file holds the steps to apply it and to revert it:
//
//	{
//	  "up":   [{"save": {...collection as the API shows it...}}, {"sql": "UPDATE ..."}],
//	  "down": [{"delete": "posts"}]
//	}
//
// Files and Go migrations run in the order of their names (files are named
// "<unix time>_<what>.json", so that order is the order they were made).
// Each applied name is recorded in the database; a file's steps and its
// record commit in one transaction, so a migration is applied whole or not
// at all, and instances that start together apply it once.
package migrate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// Go is a migration written in Go. Up and Down run outside the record of
// the migration: keep them idempotent.
type Go struct {
	// Name orders it among the files ("1735000000_seed_roles"); it must be
	// unique.
	Name string
	Up   func(ctx context.Context, st *store.Store) error
	// Down reverts Up; nil makes the migration irreversible.
	Down func(ctx context.Context, st *store.Store) error
}

// File is the content of a migration file.
type File struct {
	Up   []Step `json:"up"`
	Down []Step `json:"down"`
}

// Step is one step of a migration file: exactly one of its fields is set.
type Step struct {
	// Save creates or updates a collection (its definition as the
	// collections API shows it, id included).
	Save json.RawMessage `json:"save,omitempty"`
	// Delete removes a collection by id or name.
	Delete string `json:"delete,omitempty"`
	// SQL runs one statement.
	SQL string `json:"sql,omitempty"`
}

// Status is one migration and whether it is applied.
type Status struct {
	Name    string
	Applied bool
	At      time.Time // when applied
	Go      bool      // a Go migration (else a file)
}

// Runner applies the migrations of one directory and Go list to a store.
type Runner struct {
	Store *store.Store
	// Dir holds the migration files (created by Create and Snapshot when
	// missing).
	Dir string
	// Go are the Go migrations.
	Go []Go
	// Now is the clock of new file names (default time.Now).
	Now func() time.Time

	mu sync.Mutex // serialises file names chosen by this runner
}

var nameRe = regexp.MustCompile(`^[0-9]+_[A-Za-z0-9_]+$`)

type entry struct {
	name string
	file string // path, for a file migration
	gm   *Go
}

// list returns every migration, in name order.
func (r *Runner) list() ([]entry, error) {
	var out []entry
	items, err := os.ReadDir(r.Dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	for _, it := range items {
		n := it.Name()
		if it.IsDir() || !strings.HasSuffix(n, ".json") || !nameRe.MatchString(strings.TrimSuffix(n, ".json")) {
			continue
		}
		out = append(out, entry{name: strings.TrimSuffix(n, ".json"), file: filepath.Join(r.Dir, n)})
	}
	seen := map[string]bool{}
	for _, e := range out {
		seen[e.name] = true
	}
	for i := range r.Go {
		g := &r.Go[i]
		if !nameRe.MatchString(g.Name) {
			return nil, fmt.Errorf("go migration %q: name must be <number>_<word characters>", g.Name)
		}
		if seen[g.Name] {
			return nil, fmt.Errorf("migration %q is defined twice", g.Name)
		}
		seen[g.Name] = true
		out = append(out, entry{name: g.Name, gm: g})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// Status lists every migration and whether it is applied. Applied names
// whose migration is gone are listed too.
func (r *Runner) Status(ctx context.Context) ([]Status, error) {
	all, err := r.list()
	if err != nil {
		return nil, err
	}
	applied, err := r.Store.AppliedMigrations(ctx)
	if err != nil {
		return nil, err
	}
	var out []Status
	for _, e := range all {
		at, ok := applied[e.name]
		out = append(out, Status{Name: e.name, Applied: ok, At: at, Go: e.gm != nil})
		delete(applied, e.name)
	}
	for name, at := range applied {
		out = append(out, Status{Name: name, Applied: true, At: at})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Up applies every pending migration in order and returns their names. It
// stops at the first that fails.
func (r *Runner) Up(ctx context.Context) ([]string, error) {
	all, err := r.list()
	if err != nil {
		return nil, err
	}
	applied, err := r.Store.AppliedMigrations(ctx)
	if err != nil {
		return nil, err
	}
	var done []string
	for _, e := range all {
		if _, ok := applied[e.name]; ok {
			continue
		}
		ok, err := r.apply(ctx, e, true)
		if err != nil {
			return done, fmt.Errorf("migration %s: %w", e.name, err)
		}
		if ok {
			done = append(done, e.name)
		}
	}
	return done, nil
}

// Down reverts the n most recently named applied migrations (n <= 0: one)
// and returns their names.
func (r *Runner) Down(ctx context.Context, n int) ([]string, error) {
	n = max(n, 1)
	all, err := r.list()
	if err != nil {
		return nil, err
	}
	applied, err := r.Store.AppliedMigrations(ctx)
	if err != nil {
		return nil, err
	}
	var done []string
	for i := len(all) - 1; i >= 0 && len(done) < n; i-- {
		e := all[i]
		if _, ok := applied[e.name]; !ok {
			continue
		}
		ok, err := r.apply(ctx, e, false)
		if err != nil {
			return done, fmt.Errorf("revert %s: %w", e.name, err)
		}
		if ok {
			done = append(done, e.name)
		}
	}
	return done, nil
}

// apply runs one migration up or down; ok is false when another instance
// had already done it.
func (r *Runner) apply(ctx context.Context, e entry, up bool) (ok bool, err error) {
	if e.gm != nil {
		fn := e.gm.Up
		if !up {
			fn = e.gm.Down
			if fn == nil {
				return false, errors.New("it cannot be reverted (no Down)")
			}
		}
		if err := fn(ctx, r.Store); err != nil {
			return false, err
		}
		err := r.Store.ApplyMigration(ctx, e.name, nil, up)
		if errors.Is(err, store.ErrMigrationState) {
			return false, nil
		}
		return err == nil, err
	}
	f, err := ReadFile(e.file)
	if err != nil {
		return false, err
	}
	steps := f.Up
	if !up {
		steps = f.Down
	}
	ops, err := toOps(steps)
	if err != nil {
		return false, err
	}
	err = r.Store.ApplyMigration(ctx, e.name, ops, up)
	if errors.Is(err, store.ErrMigrationState) {
		return false, nil
	}
	return err == nil, err
}

// ReadFile reads and checks a migration file.
func ReadFile(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f File
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	for _, steps := range [][]Step{f.Up, f.Down} {
		if _, err := toOps(steps); err != nil {
			return nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
	}
	return &f, nil
}

func toOps(steps []Step) ([]store.SchemaOp, error) {
	ops := make([]store.SchemaOp, 0, len(steps))
	for i, s := range steps {
		set := 0
		var op store.SchemaOp
		if len(s.Save) > 0 && string(s.Save) != "null" {
			set++
			c := &schema.Collection{}
			if err := json.Unmarshal(s.Save, c); err != nil {
				return nil, fmt.Errorf("step %d: %w", i+1, err)
			}
			op.Save = c
		}
		if s.Delete != "" {
			set++
			op.Delete = s.Delete
		}
		if strings.TrimSpace(s.SQL) != "" {
			set++
			op.SQL = s.SQL
		}
		if set != 1 {
			return nil, fmt.Errorf("step %d: set exactly one of save, delete and sql", i+1)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// Create writes a new, empty migration file named after name and returns
// its path.
func (r *Runner) Create(name string) (string, error) {
	return r.write(name, &File{Up: []Step{}, Down: []Step{}})
}

// Snapshot writes a migration that creates every collection as it is now
// (`migrate collections`), marks it applied here, and returns its path.
func (r *Runner) Snapshot(ctx context.Context) (string, error) {
	f := &File{Down: []Step{}}
	for _, c := range r.Store.Schema().Collections() {
		if c.System {
			continue
		}
		data, err := json.Marshal(c)
		if err != nil {
			return "", err
		}
		f.Up = append(f.Up, Step{Save: data})
	}
	path, err := r.write("collections_snapshot", f)
	if err != nil {
		return "", err
	}
	return path, r.Store.MarkMigrationApplied(ctx, strings.TrimSuffix(filepath.Base(path), ".json"))
}

// Record writes the migration of a change already made to the collection
// (old nil: created; c nil: deleted) and marks it applied here: it is what
// automigrate does for every change made through the API or dashboard.
func (r *Runner) Record(ctx context.Context, old, c *schema.Collection) (string, error) {
	save := func(c *schema.Collection) (Step, error) {
		data, err := json.Marshal(c)
		return Step{Save: data}, err
	}
	var f File
	var what string
	var err error
	var step Step
	switch {
	case old == nil:
		what = "created_" + c.Name
		if step, err = save(c); err != nil {
			return "", err
		}
		f.Up, f.Down = []Step{step}, []Step{{Delete: c.ID}}
	case c == nil:
		what = "deleted_" + old.Name
		if step, err = save(old); err != nil {
			return "", err
		}
		f.Up, f.Down = []Step{{Delete: old.ID}}, []Step{step}
	default:
		what = "updated_" + c.Name
		up, err := save(c)
		if err != nil {
			return "", err
		}
		down, err := save(old)
		if err != nil {
			return "", err
		}
		f.Up, f.Down = []Step{up}, []Step{down}
	}
	path, err := r.write(what, &f)
	if err != nil {
		return "", err
	}
	return path, r.Store.MarkMigrationApplied(ctx, strings.TrimSuffix(filepath.Base(path), ".json"))
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9_]+`)

// write stores f as a new file "<unix time>_<what>.json", never replacing
// one: a later name within the same second gets a larger number.
func (r *Runner) write(what string, f *File) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	what = strings.Trim(unsafeName.ReplaceAllString(what, "_"), "_")
	if what == "" {
		return "", errors.New("migration name needs letters or digits")
	}
	if err := os.MkdirAll(r.Dir, 0o755); err != nil {
		return "", err
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	stamp := now().Unix()
	if all, err := r.list(); err == nil && len(all) > 0 {
		last, _, _ := strings.Cut(all[len(all)-1].name, "_")
		if n, err := strconv.ParseInt(last, 10, 64); err == nil && n >= stamp {
			stamp = n + 1 // keep creation order = name order
		}
	}
	data, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(r.Dir, strconv.FormatInt(stamp, 10)+"_"+what+".json")
	out, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	if _, err := out.Write(append(data, '\n')); err != nil {
		out.Close()
		return "", err
	}
	return path, out.Close()
}
