package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// binaries are the programs under test; plinth is "" when it did not build.
type binaries struct {
	plinth, baseline string
	plinthErr        string
}

// plinthBuildFailed prefixes the unavailability of every row when
// ./cmd/plinth did not build (said once in the report's notes).
const plinthBuildFailed = "Plinth did not build: "

// target is one server under test in a database run.
type target struct {
	name     string // "plinth" or "baseline"
	srv      *server
	env      *targetEnv
	client   *http.Client
	tokenErr string // why user tokens are missing, if they are
}

// harness carries what every database run needs.
type harness struct {
	cfg    Config
	bins   binaries
	outDir string // results/<timestamp>
	log    io.Writer
	rep    *Report
}

func (h *harness) logf(format string, args ...any) {
	fmt.Fprintf(h.log, "bench: "+format+"\n", args...)
}

// runDatabase sets up one database, seeds each size in turn and measures
// every scenario on Plinth and on the baseline, appending rows to the report.
func (h *harness) runDatabase(ctx context.Context, db string) error {
	dataDir, err := os.MkdirTemp("", "plinth-bench-"+db+"-")
	if err != nil {
		return err
	}
	if !h.cfg.Keep {
		defer os.RemoveAll(dataDir)
	}
	var dbArgs []string
	var pg *pgDatabase
	if db == "postgres" {
		if pg, err = createPGDatabase(ctx, h.cfg.PGURL); err != nil {
			return err
		}
		defer func() {
			if err := pg.drop(context.Background()); err != nil {
				h.logf("drop database %s: %v", pg.name, err)
			}
		}()
		dbArgs = []string{"--db", pg.url}
		h.logf("postgres: created database %s", pg.name)
	}

	var (
		plinth *server
		fx     *fixture
		ds     *dataStore
	)
	if h.bins.plinth != "" {
		plinth, fx, ds, err = h.startPlinth(ctx, db, dataDir, dbArgs, pg)
		if plinth != nil {
			defer plinth.stop()
		}
		if err != nil {
			return err
		}
	} else {
		dsn := filepath.Join(dataDir, "data.db")
		if pg != nil {
			dsn = pg.url
		}
		if ds, err = openDataStore(ctx, db, dsn); err != nil {
			return err
		}
		if fx, err = setupStandalone(ctx, ds, h.cfg.Users); err != nil {
			ds.close()
			return err
		}
	}
	defer ds.close()
	for _, n := range fx.Notes {
		h.rep.Notes = append(h.rep.Notes, db+": "+n)
	}
	if fx.UsersNote != "" {
		h.rep.Notes = append(h.rep.Notes, db+": user scenarios unavailable: "+fx.UsersNote)
	}
	if mode := ds.journalMode(ctx); mode != "" {
		h.rep.Notes = append(h.rep.Notes, fmt.Sprintf("%s: journal_mode found after Plinth set up the file: %s (the baseline opens with WAL)", db, mode))
	}

	var targets []*target
	if plinth != nil {
		targets = append(targets, &target{name: "plinth", srv: plinth, client: NewClient(h.cfg.Load.Concurrency)})
	}
	var baseline *server
	defer func() {
		if baseline != nil {
			baseline.stop()
		}
	}()

	for _, rows := range h.cfg.Rows {
		t0 := time.Now()
		ids, err := seedTable(ctx, ds, postsCollection, rows, fx.ownerIDs(), 1)
		if err != nil {
			return err
		}
		fx.PostIDs = append(fx.PostIDs, ids...)
		ids, err = seedTable(ctx, ds, ownedCollection, rows, fx.ownerIDs(), 2)
		if err != nil {
			return err
		}
		fx.OwnedIDs = append(fx.OwnedIDs, ids...)
		took := time.Since(t0)
		h.logf("%s: seeded posts and owned_posts to %d rows each via database/sql in %s", db, rows, took.Round(time.Millisecond))
		h.rep.Seeding = append(h.rep.Seeding, SeedTiming{DB: db, Rows: rows, Seconds: took.Seconds()})

		if baseline == nil {
			if baseline, err = h.startBaseline(ctx, db, ds.dsn, fx); err != nil {
				return err
			}
			targets = append(targets, &target{name: "baseline", srv: baseline, client: NewClient(h.cfg.Load.Concurrency)})
			for _, t := range targets {
				t.env = &targetEnv{base: t.srv.baseURL, fx: fx}
				if len(fx.Users) == 0 {
					t.tokenErr = fx.UsersNote
					continue
				}
				if t.env.tokens, err = loginUsers(ctx, t.srv.baseURL, fx.Users, h.cfg.Tokens); err != nil {
					t.tokenErr = "user login failed: " + err.Error()
				}
			}
		}
		for i, sc := range scenarios() {
			if h.cfg.Scenarios != nil && !h.cfg.Scenarios[sc.Name] {
				continue
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if sc.Realtime {
				// Independent of the table size: once per database.
				if rows == h.cfg.Rows[0] {
					h.runRealtime(ctx, db, dbArgs)
				}
				continue
			}
			for round := range h.cfg.Rounds {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				// Alternate which server goes first so that neither always
				// inherits the other's warm caches.
				order := targets
				if (i+round)%2 == 1 {
					order = []*target{targets[len(targets)-1]}
					order = append(order, targets[:len(targets)-1]...)
				}
				n := 0 // the round number, when there are several
				if h.cfg.Rounds > 1 {
					n = round + 1
				}
				row := h.measure(ctx, db, rows, n, sc, order)
				judge(&row, h.cfg.Load.Concurrency)
				h.logf("%s %7d %-17s %s", db, rows, roundName(row), summaryLine(row))
				h.rep.Rows = append(h.rep.Rows, row)
			}
		}
	}
	return nil
}

// startPlinth creates the superuser, starts Plinth, creates the collections
// and users through its API and connects to the database it uses.
func (h *harness) startPlinth(ctx context.Context, db, dataDir string, dbArgs []string, pg *pgDatabase) (*server, *fixture, *dataStore, error) {
	args := append([]string{"superuser", "upsert", superEmail, superPassword, "--dir", dataDir}, dbArgs...)
	if _, err := runTool(ctx, nil, h.bins.plinth, args...); err != nil {
		return nil, nil, nil, fmt.Errorf("plinth superuser upsert: %w", err)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, nil, nil, err
	}
	// Rate limits would throttle the load generator, which hammers from one
	// IP and logs in hundreds of times: the bench measures throughput.
	env := []string{"PLINTH_RATE_LIMITS=off"}
	if h.cfg.Profile != "" {
		env = append(env, "PLINTH_PPROF=1")
	}
	args = append([]string{"serve", "--http", addr, "--dir", dataDir}, dbArgs...)
	srv, err := startServer(ctx, "plinth", h.bins.plinth, addr, filepath.Join(h.outDir, "plinth-"+db+".log"), env, time.Minute, args...)
	if err != nil {
		return nil, nil, nil, err
	}
	t0 := time.Now()
	fx, err := setupPlinth(ctx, newAPIClient(srv.baseURL), h.cfg.Users)
	if err != nil {
		return srv, nil, nil, err
	}
	h.logf("%s: Plinth set up (collections, %d users via API) in %s", db, len(fx.Users), time.Since(t0).Round(time.Millisecond))
	dsn := ""
	if pg != nil {
		dsn = pg.url
	} else if dsn, err = findSQLiteFile(ctx, dataDir, postsCollection); err != nil {
		return srv, nil, nil, err
	}
	ds, err := openDataStore(ctx, db, dsn)
	return srv, fx, ds, err
}

// startBaseline starts the baseline server on the same database.
func (h *harness) startBaseline(ctx context.Context, db, dsn string, fx *fixture) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"-http", addr, "-driver", db, "-dsn", dsn,
		"-collection", postsCollection + "=" + fx.PostsID,
		"-collection", ownedCollection + "=" + fx.OwnedID,
		"-owner-rule", ownedCollection}
	if len(fx.Users) > 0 {
		args = append(args, "-users-id", fx.UsersID)
	}
	return startServer(ctx, "baseline", h.bins.baseline, addr, filepath.Join(h.outDir, "baseline-"+db+".log"), nil, 30*time.Second, args...)
}

// probe sends one request built with a fixed seed (so both servers get the
// same request) and returns the body, or why the scenario is unavailable.
func probe(ctx context.Context, client *http.Client, gen RequestFunc) ([]byte, string) {
	req, err := gen(ctx, rand.New(rand.NewPCG(42, 42)))
	if err != nil {
		return nil, "build request: " + err.Error()
	}
	what := req.Method + " " + req.URL.RequestURI()
	resp, err := client.Do(req)
	if err != nil {
		return nil, what + ": " + err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, what + ": read body: " + err.Error()
	}
	if resp.StatusCode != http.StatusOK {
		if len(body) > 300 {
			body = body[:300]
		}
		return nil, fmt.Sprintf("%s: got status %d, want 200: %s", what, resp.StatusCode, body)
	}
	return body, ""
}

// measure runs one scenario on each target in turn; round numbers the
// row when --rounds repeats it (0 otherwise).
func (h *harness) measure(ctx context.Context, db string, rows, round int, sc Scenario, targets []*target) Row {
	row := Row{DB: db, Rows: rows, Scenario: sc.Name, Kind: sc.Kind, Desc: sc.Desc, Round: round}
	if sc.Pending != "" {
		row.Verdict, row.Note = "pending", sc.Pending
		return row
	}
	bodies := map[string][]byte{}
	for _, t := range targets {
		m, body := h.measureTarget(ctx, db, rows, sc, t, &row)
		if t.name == "plinth" {
			row.Plinth = m
		} else {
			row.Baseline = m
		}
		bodies[t.name] = body
	}
	if pb, bb := bodies["plinth"], bodies["baseline"]; pb != nil && bb != nil {
		row.Shape = "same"
		if d := shapeDiff(pb, bb); d != "" {
			row.Shape = d
		}
	}
	if row.Plinth == nil {
		row.Plinth = &Measure{Unavailable: plinthBuildFailed + h.bins.plinthErr}
	}
	if !row.Plinth.ran() || !row.Baseline.ran() {
		row.Verdict = "unavailable"
	}
	return row
}

// measureTarget probes, warms up and measures one scenario on one server.
// It returns the figures and the probe's body (nil when unavailable); a
// failed profile capture is noted on row.
func (h *harness) measureTarget(ctx context.Context, db string, rows int, sc Scenario, t *target, row *Row) (*Measure, []byte) {
	m := &Measure{}
	if sc.NeedsUsers && (len(t.env.fx.Users) == 0 || len(t.env.tokens) == 0) {
		m.Unavailable = t.tokenErr
		return m, nil
	}
	gen := sc.Build(t.env)
	body, why := probe(ctx, t.client, gen)
	if why != "" {
		m.Unavailable = why
		return m, nil
	}
	if h.cfg.Warmup > 0 {
		RunLoad(ctx, t.client, LoadConfig{Concurrency: h.cfg.Load.Concurrency, Duration: h.cfg.Warmup}, gen)
	}
	dbComm := ""
	if db == "postgres" {
		dbComm = "postgres"
	}
	mon := startMonitor(ctx, t.srv.pid(), dbComm, 50*time.Millisecond)
	var prof <-chan error
	profPath := ""
	if t.name == "plinth" && h.cfg.Profile == sc.Name {
		name := fmt.Sprintf("cpu-%s-%d-%s", db, rows, sc.Name)
		if row.Round > 0 {
			name += fmt.Sprintf("-round%d", row.Round)
		}
		profPath = filepath.Join(h.outDir, name+".pprof")
		prof = captureProfile(ctx, t.srv.baseURL, h.cfg.Load.Duration, profPath)
	}
	m.Load = RunLoad(ctx, t.client, h.cfg.Load, gen)
	m.Proc = mon.stop()
	if prof != nil {
		if err := <-prof; err != nil {
			row.Note += " CPU profile failed: " + err.Error()
		} else {
			h.rep.Profiles = append(h.rep.Profiles, filepath.Base(profPath))
		}
	}
	return m, body
}

// roundName is the row's scenario name, with its round when repeated.
func roundName(r Row) string {
	if r.Round > 0 {
		return fmt.Sprintf("%s #%d", r.Scenario, r.Round)
	}
	return r.Scenario
}

// summaryLine is the one-line progress report of a row.
func summaryLine(r Row) string {
	if r.Verdict == "pending" {
		return "pending"
	}
	f := func(m *Measure) string {
		if !m.ran() {
			return "n/a"
		}
		return fmt.Sprintf("%6.0f req/s p99 %-8s err %d", m.Load.RPS, fmtDur(m.Load.P99), m.Load.Errors)
	}
	return fmt.Sprintf("plinth %s | baseline %s | ratio %s %s", f(r.Plinth), f(r.Baseline), fmtRatio(r.ThroughputRatio), r.Verdict)
}
