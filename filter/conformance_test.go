package filter

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/plinthdev/plinth/schema"
)

const all = "p1 p2 p3 p4 p5"

// conformanceCases run on SQLite and PostgreSQL; want is the space-separated
// list of matching post ids.
var conformanceCases = []struct {
	filter string
	want   string
}{
	{`title = "Hello World"`, "p1"},
	{`title = 'Hello World'`, "p1"},
	{`id = "p1" // a comment`, "p1"},
	{`title != "Hello World"`, "p2 p3 p4 p5"},
	{`title ~ "hello"`, "p1 p4"},
	{`title !~ "hello"`, "p2 p3 p5"},
	{`title ~ "o_l"`, "p2"},
	{`notes ~ "a_b"`, "p4"},
	{`notes ~ "100%"`, "p2"},
	{`title ~ "hel%"`, "p1 p4"},
	{`notes ~ "\\"`, "p3"},
	{`notes = 'back\\slash'`, "p3"},
	{`title > "Z"`, "p4 p5"},
	{`title < "a"`, "p1 p2 p3"},
	{`score > 5`, "p1 p2 p5"},
	{`score >= 5.5`, "p1 p2 p5"},
	{`score < 0`, "p4"},
	{`score <= 0`, "p3 p4"},
	{`score = "5.5"`, "p2"},
	{`score = 1e1`, "p1"},
	{`score = -3`, "p4"},
	{`score = "abc"`, ""},
	{`score != "abc"`, all},
	{`score ~ "5"`, "p2"},
	{`title = 5`, ""},
	{`published = true`, "p1 p4 p5"},
	{`published = 1`, "p1 p4 p5"},
	{`published = "false"`, "p2 p3"},
	{`published != true`, "p2 p3"},
	{`published = "abc"`, ""},
	{`published != "abc"`, all},
	{`title = ""`, "p3"},
	{`title = null`, "p3"},
	{`null = title`, "p3"},
	{`title != null`, "p1 p2 p4 p5"},
	{`author = ""`, "p3"},
	{`author = null`, "p3"},
	{`score = null`, ""},
	{`score != ""`, all},
	{`score > null`, ""},
	{`status = "draft"`, "p1 p4"},
	{`categories ?= "a"`, "p1 p5"},
	{`categories = "a"`, ""},
	{`categories = "b"`, "p2"},
	{`categories != "a"`, "p2 p3 p4"},
	{`categories ?!= "a"`, all},
	{`categories = ""`, "p3"},
	{`categories ?= ""`, "p3"},
	{`categories != ""`, "p1 p2 p4 p5"},
	{`categories:length = 2`, "p1 p5"},
	{`categories:length = 0`, "p3"},
	{`categories:length > 1`, "p1 p5"},
	{`categories:each ~ "a"`, ""},
	{`categories:each != "c"`, "p1 p2 p3"},
	{`categories ?~ "C"`, "p4 p5"},
	{`author.name = "Alice"`, "p1 p4"},
	{`author.name ~ "o"`, "p2 p5"},
	{`author.age > 26`, "p1 p4 p5"},
	{`author.verified = false`, "p2"},
	{`author.name = ""`, "p3"},
	{`author.team.name = "red"`, "p1 p4"},
	{`author.team.name = ""`, "p3 p5"},
	{`author.favorites ?= "p2"`, "p1 p4"},
	{`author.favorites:length = 1`, "p2"},
	{`tags.name ?= "tech"`, "p1 p2"},
	{`tags.name = "tech"`, "p2"},
	{`tags.name ?~ "E"`, "p1 p2 p4 p5"},
	{`tags.name != "news"`, "p2 p3 p4"},
	{`tags ?= "missing"`, "p5"},
	{`tags:length = 2`, "p1 p5"},
	{`comments_via_post.message ?~ "great"`, "p1 p2"},
	{`comments_via_post.message = "great"`, ""},
	{`comments_via_post.likes ?> 5`, "p2"},
	{`comments_via_post.likes >= 0`, "p1 p2"},
	{`comments_via_post:length = 2`, "p1"},
	{`comments_via_post:length = 0`, "p3 p4 p5"},
	{`users_via_favorites.name ?= "Bob"`, "p1"},
	{`users_via_favorites.name ?= "Alice"`, "p1 p2"},
	{`users_via_favorites:length = 0`, "p3 p4 p5"},
	{`meta.a.b = 1`, "p1"},
	{`meta.a.b = "1"`, "p2"},
	{`meta.s = "x"`, "p1"},
	{`meta.s ~ "x"`, "p1 p2"},
	{`meta.s = ""`, "p3 p4 p5"},
	{`meta.a.b = null`, "p3 p4 p5"},
	{`meta.a.b != null`, "p1 p2"},
	{`meta.list.0 = 1`, "p1"},
	{`meta.list.1 > 1`, "p1"},
	{`meta.flag = true`, "p1"},
	{`meta.a.b > 0`, "p1"},
	{`meta = null`, "p3"},
	{`geoDistance(loc.lon, loc.lat, 12.4964, 41.9028) < 10`, "p1 p4"},
	{`geoDistance(loc.lon, loc.lat, 2.3522, 48.8566) < 5`, "p2"},
	{`strftime('%Y', created) = "2024"`, "p1 p2"},
	{`strftime('%Y-%m', created) = "2024-06"`, "p2"},
	{`strftime('%w', created) = "1"`, "p1 p4"},
	{`strftime('%W', created) = "03"`, "p1"},
	{`strftime('%j', created) = "153"`, "p2"},
	{`created > "2024-01-01"`, "p1 p2 p4"},
	{`created < @now`, "p1 p2 p3 p5"},
	{`created >= @todayStart && created <= @todayEnd`, "p2"},
	{`created >= @yearStart`, "p1 p2 p4"},
	{`created < @monthStart`, "p1 p3 p5"},
	{`@yesterday < created`, "p2 p4"},
	{`score > @day`, "p1 p2 p5"},
	{`@weekday = 6`, all},
	{`title:lower = "hello world"`, "p1"},
	{`(title ~ "hello" || score > 50) && published = true`, "p1 p4 p5"},
	{`title = "Hello World" || title = ""`, "p1 p3"},
	{`title = author.name`, "p3"},
	{`published = author.verified`, "p1 p2 p4 p5"},
	{`score > author.age`, "p5"},
	{`@request.auth.id = author`, "p1 p4"},
	{`author = @request.auth.id`, "p1 p4"},
	{`@request.auth.id != ""`, all},
	{`author.name = @request.auth.name`, "p1 p4"},
	{`@request.auth.verified = true && published = false`, "p2 p3"},
	{`@request.auth.team.name = "red" && status = "draft"`, "p1 p4"},
	{`@request.auth.favorites ?= id`, "p1 p2"},
	{`id = @request.auth.favorites`, ""},
	{`@request.auth.favorites.title ?~ "go"`, all},
	{`@request.auth.password = ""`, all},
	{`@request.body.title = title`, "p2"},
	{`@request.body.title:isset = true`, all},
	{`@request.body.nope:isset = true`, ""},
	{`@request.body.title:changed = true`, all},
	{`@request.body.tags:length = 2 && tags:length = 2`, "p1 p5"},
	{`tags ?= @request.body.tags`, "p1 p2 p5"},
	{`@request.body.tags:each ?= "t1"`, all},
	{`@request.body.score > score`, "p2 p3 p4"},
	{`@request.body.meta.x = 1`, all},
	{`@request.body.tags.name ?= "tech"`, all},
	{`@request.query.q = "hello" && title ~ @request.query.q`, "p1 p4"},
	{`@request.headers.x_token = "abc"`, all},
	{`@request.method = "GET" && @request.context = "default"`, all},
	{`@collection.comments.post = id && @collection.comments.likes > 5`, "p2"},
	{`@collection.comments.post = id && @collection.comments:c2.likes > 5`, "p1 p2"},
	{`@collection.users.name = author.name && @collection.users.age > 35`, "p5"},
	{`@collection.tags.name = "Life"`, all},
}

// noAuthCases compile with a request that has no auth record.
var noAuthCases = []struct {
	filter string
	want   string
}{
	{`@request.auth.id = ""`, all},
	{`@request.auth.id != ""`, ""},
	{`@request.auth.team.name = "red"`, ""},
	{`@request.auth.favorites:length = 0`, all},
}

func (fx *fixture) request(auth bool) *RequestInfo {
	r := &RequestInfo{
		Body:    map[string]any{"title": "Go_lang tips", "tags": []any{"t1", "t2"}, "score": 6.0, "meta": map[string]any{"x": 1.0}},
		Query:   map[string]string{"q": "hello"},
		Headers: map[string]string{"X-Token": "abc"},
		Method:  "GET",
		Context: "default",
	}
	if auth {
		r.Auth = fx.record("users", "u1")
		r.Auth.Set("password", "$2a$hash")
	}
	return r
}

type testDB struct {
	name string
	d    Dialect
	db   *sql.DB
}

func columnType(d Dialect, f *schema.Field) string {
	pg := d == Postgres
	if f.Name == "id" {
		return "TEXT PRIMARY KEY"
	}
	switch f.Storage() {
	case schema.StoreNumber:
		if pg {
			return "DOUBLE PRECISION NOT NULL DEFAULT 0"
		}
		return "REAL NOT NULL DEFAULT 0"
	case schema.StoreBool:
		if pg {
			return "BOOLEAN NOT NULL DEFAULT FALSE"
		}
		return "BOOLEAN NOT NULL DEFAULT 0"
	case schema.StoreJSONArray:
		if pg {
			return "JSONB NOT NULL DEFAULT '[]'"
		}
		return "JSON NOT NULL DEFAULT '[]'"
	case schema.StoreJSON:
		if pg {
			return "JSONB NULL"
		}
		return "JSON NULL"
	}
	return "TEXT NOT NULL DEFAULT ''"
}

func (fx *fixture) load(t testing.TB, tdb *testDB) {
	t.Helper()
	for _, name := range fx.order {
		c := fx.colls[name]
		var cols []string
		var fields []*schema.Field
		for _, f := range c.Fields {
			if f.Storage() == schema.StoreNone {
				continue
			}
			cols = append(cols, quoteIdent(f.Name)+" "+columnType(tdb.d, f))
			fields = append(fields, f)
		}
		if _, err := tdb.db.Exec("CREATE TABLE " + quoteIdent(name) + " (" + strings.Join(cols, ", ") + ")"); err != nil {
			t.Fatalf("%s: create %s: %v", tdb.name, name, err)
		}
		for _, row := range fx.rows[name] {
			p := &Params{Dialect: tdb.d}
			var names, phs []string
			for _, f := range fields {
				v, ok := row[f.Name]
				if !ok {
					continue
				}
				names = append(names, quoteIdent(f.Name))
				ph := ""
				switch f.Storage() {
				case schema.StoreJSONArray, schema.StoreJSON:
					var raw any
					switch x := v.(type) {
					case json.RawMessage:
						if len(x) > 0 {
							raw = string(x)
						}
					default:
						b, _ := json.Marshal(x)
						raw = string(b)
					}
					ph = p.Add(raw)
					if tdb.d == Postgres {
						ph = "CAST(CAST(" + ph + " AS TEXT) AS JSONB)"
					}
				default:
					ph = p.Add(v)
				}
				phs = append(phs, ph)
			}
			q := "INSERT INTO " + quoteIdent(name) + " (" + strings.Join(names, ", ") + ") VALUES (" + strings.Join(phs, ", ") + ")"
			if _, err := tdb.db.Exec(q, p.Values...); err != nil {
				t.Fatalf("%s: %s: %v", tdb.name, q, err)
			}
		}
	}
}

func openSQLite(t testing.TB) *testDB {
	db, err := sql.Open("sqlite", filepath.Join(t.TempDir(), "filter.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &testDB{name: "sqlite", d: SQLite, db: db}
}

func openPostgres(t testing.TB) *testDB {
	dsn := os.Getenv("PLINTH_TEST_PG_URL")
	if dsn == "" {
		dsn = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	}
	skip := func(err error) *testDB {
		if os.Getenv("PLINTH_REQUIRE_SERVICES") == "1" {
			t.Fatalf("PostgreSQL unreachable at %s: %v", dsn, err)
		}
		t.Logf("skipping the PostgreSQL half: unreachable at %s: %v (set PLINTH_TEST_PG_URL)", dsn, err)
		return nil
	}
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return skip(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		return skip(err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schemaName := "filter_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE SCHEMA " + schemaName); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schemaName + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schemaName)
	u.RawQuery = q.Encode()
	db, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &testDB{name: "postgres", d: Postgres, db: db}
}

func queryIDs(db *sql.DB, q string, args []any) ([]string, error) {
	rows, err := db.Query(q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func fields(s string) []string {
	out := strings.Fields(s)
	if out == nil {
		out = []string{}
	}
	return out
}

func TestConformance(t *testing.T) {
	t.Parallel()
	fx := newFixture(t)
	dbs := []*testDB{openSQLite(t)}
	if pg := openPostgres(t); pg != nil {
		dbs = append(dbs, pg)
	}
	for _, tdb := range dbs {
		fx.load(t, tdb)
	}
	run := func(t *testing.T, tdb *testDB, filter string, req *RequestInfo, want []string) {
		t.Helper()
		e, err := Parse(filter)
		if err != nil {
			t.Fatalf("parse %q: %v", filter, err)
		}
		p := &Params{Dialect: tdb.d}
		where, err := Compile(e, fx.env(tdb.d, req), p)
		if err != nil {
			t.Fatalf("%s: compile %q: %v", tdb.name, filter, err)
		}
		q := "SELECT id FROM posts AS p WHERE " + where + " ORDER BY id"
		got, err := queryIDs(tdb.db, q, p.Values)
		if err != nil {
			t.Fatalf("%s: %q: %v\n%s\n%#v", tdb.name, filter, err, q, p.Values)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %q = %v, want %v\n%s\n%#v", tdb.name, filter, got, want, q, p.Values)
		}
	}
	for _, tdb := range dbs {
		for _, tc := range conformanceCases {
			run(t, tdb, tc.filter, fx.request(true), fields(tc.want))
		}
		for _, tc := range noAuthCases {
			run(t, tdb, tc.filter, fx.request(false), fields(tc.want))
		}
		// :changed against a stored record.
		req := fx.request(true)
		req.Body = map[string]any{"title": "Hello World", "score": 11.0}
		env := fx.env(tdb.d, req)
		env.Current = fx.record("posts", "p1")
		for filter, want := range map[string]string{
			`@request.body.title:changed = false && @request.body.score:changed = true && id = "p1"`: "p1",
			`@request.body.title:changed = true`:                                                     "",
		} {
			e, _ := Parse(filter)
			p := &Params{Dialect: tdb.d}
			where, err := Compile(e, env, p)
			if err != nil {
				t.Fatalf("%s: %q: %v", tdb.name, filter, err)
			}
			got, err := queryIDs(tdb.db, "SELECT id FROM posts AS p WHERE "+where+" ORDER BY id", p.Values)
			if err != nil || !reflect.DeepEqual(got, fields(want)) {
				t.Errorf("%s: %q = %v, %v; want %v", tdb.name, filter, got, err, want)
			}
		}
		// sorting
		for sort, want := range map[string]string{
			"-score":          "p5 p1 p2 p3 p4",
			"title":           "p3 p2 p1 p4 p5",
			"author.name,-id": "p3 p4 p1 p2 p5",
			"meta.a.b,id":     "p3 p4 p5 p2 p1",
			"+status,-title":  "p3 p4 p1 p5 p2",
			"-@rowid":         "p5 p4 p3 p2 p1",
			"@rowid":          "p1 p2 p3 p4 p5",
		} {
			p := &Params{Dialect: tdb.d}
			order, err := CompileSort(sort, fx.env(tdb.d, nil), p)
			if err != nil {
				t.Fatalf("%s: sort %q: %v", tdb.name, sort, err)
			}
			got, err := queryIDs(tdb.db, "SELECT id FROM posts AS p ORDER BY "+order, p.Values)
			if err != nil || !reflect.DeepEqual(got, fields(want)) {
				t.Errorf("%s: sort %q = %v, %v; want %v\n%s", tdb.name, sort, got, err, want, order)
			}
		}
		p := &Params{Dialect: tdb.d}
		order, err := CompileSort("@random", fx.env(tdb.d, nil), p)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := queryIDs(tdb.db, "SELECT id FROM posts AS p ORDER BY "+order, p.Values); err != nil || len(got) != 5 {
			t.Errorf("%s: @random: %v %v", tdb.name, got, err)
		}
	}
}
