package store_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// safeName is what every table, column and index name in the database must
// look like, whatever a client sent.
var safeName = regexp.MustCompile(`^[A-Za-z0-9_]+$`)

// FuzzCollectionDDL sends collections built from fuzzed ids and names
// through create, update (a rename and a single-to-multiple conversion,
// which use temporary columns) and import on SQLite. Nothing may panic, a
// refusal must be a validation error, and no name that is not a plain
// identifier may reach the database (issue 12, item 2).
func FuzzCollectionDDL(f *testing.F) {
	for _, seed := range [][6]string{
		{"pbc_1234567890", "posts", "select1234", "kind", "kinds", "idx_posts_kind"},
		{"_pb_things_", "things", "geoPoint1542800728", "a", "b", "idx_a"},
		{"", "c", `x"; COMMIT; CREATE TABLE pwned (x TEXT); BEGIN; --`, "a", "b", "i"},
		{"", "c", `x" TEXT); ATTACH DATABASE '/tmp/pwn.db' AS pwn; --`, "a", "b", "i"},
		{`p"; DROP TABLE users; --`, "c", "f1", "a", "b", "i"},
		{"", `c"`, "f1", "a`", "b]", `i"; DROP TABLE users; --`},
		{"", "c", "f1", "a", "a", "i"},
		{"", "c", "f1", "A", "a", "i"},
		{"", "c", strings.Repeat("x", 101), "a", "b", "i"},
		{"", "c", "f\x00", "a\n", "b", "i"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3], seed[4], seed[5])
	}
	ctx := context.Background()
	b := testenv.Backend{Name: "sqlite", Dir: f.TempDir()}
	st, err := store.Open(ctx, store.Config{Dir: b.Dir})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	db, err := sql.Open("sqlite", filepath.Join(b.Dir, "data.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { db.Close() })

	build := func(collID, collName, fieldID, fieldName, indexName string, maxSelect int) *schema.Collection {
		fl, _ := schema.NewField("select", fieldName)
		fl.ID = fieldID
		fl.Options.(*schema.SelectOptions).Values = []string{"a", "b"}
		fl.Options.(*schema.SelectOptions).MaxSelect = maxSelect
		return &schema.Collection{ID: collID, Name: collName, Type: schema.TypeBase, Fields: []*schema.Field{fl},
			Indexes: []string{"CREATE INDEX " + indexName + " ON " + collName + " (" + fieldName + ")"}}
	}
	f.Fuzz(func(t *testing.T, collID, collName, fieldID, fieldName, fieldName2, indexName string) {
		// A refusal must be a validation error (a 400), never the
		// database's: that would mean the DDL ran.
		refused := func(op string, err error) bool {
			if err == nil {
				return false
			}
			var ve schema.Errors
			if !errors.As(err, &ve) {
				t.Fatalf("%s: not a validation error: %v", op, err)
			}
			return true
		}
		// Each run starts from the same database: inputs that name an
		// existing collection would change it for the runs that follow,
		// which makes failures impossible to reproduce.
		snap := st.Schema()
		if snap.Lookup(collID) != nil || snap.Lookup(collName) != nil || snap.Lookup(collName+"_i") != nil {
			return
		}
		checkDB(t, db, st)
		created, err := st.SaveCollection(ctx, build(collID, collName, fieldID, fieldName, indexName, 1))
		if !refused("create", err) {
			checkSaved(t, created)
			next := build(created.ID, collName, created.Fields[1].ID, fieldName2, indexName, 2)
			next.Indexes = nil
			if updated, err := st.SaveCollection(ctx, next); !refused("update", err) {
				checkSaved(t, updated)
			}
		}
		checkDB(t, db, st)
		list := []*schema.Collection{
			build(collID, collName+"_i", fieldID, fieldName, indexName, 1),
			build(collID, collName+"_i", fieldID, fieldName2, indexName, 2),
		}
		list[1].Indexes = nil
		refused("import", st.ImportCollections(ctx, list, false))
		checkDB(t, db, st)
		for _, c := range st.Schema().Collections() {
			if !c.System && c.ID != "_pb_users_auth_" {
				if err := st.DeleteCollection(ctx, c); err != nil {
					t.Fatalf("delete %s: %v", c.Name, err)
				}
			}
		}
	})
}

// checkSaved requires that a stored collection has only safe ids and names.
func checkSaved(t *testing.T, c *schema.Collection) {
	t.Helper()
	if !schema.ValidSchemaID(c.ID) || !schema.ValidIdentifier(c.Name) {
		t.Fatalf("stored collection id %q name %q", c.ID, c.Name)
	}
	for _, f := range c.Fields {
		if !schema.ValidSchemaID(f.ID) || !schema.ValidIdentifier(f.Name) {
			t.Fatalf("stored field id %q name %q", f.ID, f.Name)
		}
	}
}

// checkDB requires that the database holds only the system tables and the
// collections' tables, and that every name in it is a plain identifier.
func checkDB(t *testing.T, db *sql.DB, st *store.Store) {
	t.Helper()
	known := map[string]bool{"_params": true, "_collections": true, "_migrations": true,
		"_outbox": true, "_webhooks": true, "_webhookDeliveries": true, "_rowCounts": true, "sqlite_sequence": true}
	for _, c := range st.Schema().Collections() {
		known[c.Name] = true
	}
	rows, err := db.Query(`SELECT m.type, m.name, m.tbl_name, COALESCE(p.name, '') FROM sqlite_master m
		LEFT JOIN pragma_table_info(m.name) p ON m.type IN ('table', 'view')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var typ, name, table, col string
		if err := rows.Scan(&typ, &name, &table, &col); err != nil {
			t.Fatal(err)
		}
		if !safeName.MatchString(name) || (col != "" && !safeName.MatchString(col)) {
			t.Fatalf("unsafe name in the database: %s %q column %q", typ, name, col)
		}
		if !known[table] && !strings.HasPrefix(table, "river_") && !strings.HasPrefix(name, "sqlite_autoindex_") {
			t.Fatalf("unexpected %s %q on %q in the database", typ, name, table)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}
