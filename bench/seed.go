package main

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// postColumns lists the seeded columns of a table with the benchmark posts
// schema, in the order seedRow fills them.
var postColumns = []string{"id", "title", "score", "published", "status", "meta", "owner", "created", "updated"}

// statuses are the values of the posts "status" select field.
var statuses = []string{"draft", "live", "archived"}

// dateLayout is how PocketBase stores dates as text.
const dateLayout = "2006-01-02 15:04:05.000Z"

// newRecordID returns a PocketBase-style id (15 characters of [a-z0-9]).
func newRecordID(rng *rand.Rand) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	var b [15]byte
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b[:])
}

// seedRow returns the column values of the i-th seeded row.
func seedRow(rng *rand.Rand, i int, owners []string, epoch time.Time) []any {
	owner := ""
	if len(owners) > 0 {
		owner = owners[rng.IntN(len(owners))]
	}
	ts := epoch.Add(-time.Duration(i) * time.Second).Format(dateLayout)
	return []any{
		newRecordID(rng),
		fmt.Sprintf("Post number %d about topic %d", i, rng.IntN(500)),
		float64(rng.IntN(100000)) / 100, // 0.00 .. 999.99
		rng.IntN(2) == 0,
		statuses[rng.IntN(len(statuses))],
		fmt.Sprintf(`{"n":%d,"tag":"t%d","nested":{"a":%d}}`, i, rng.IntN(50), rng.IntN(10)),
		owner,
		ts,
		ts,
	}
}

// insertSQL returns a parameterised INSERT of n rows of postColumns.
func insertSQL(ds *dataStore, table string, n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO "` + table + `" (`)
	for i, c := range postColumns {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + c + `"`)
	}
	b.WriteString(") VALUES ")
	for j := range n {
		if j > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(" + ds.placeholders(j*len(postColumns)+1, len(postColumns)) + ")")
	}
	return b.String()
}

// seedTable inserts rows into table until it holds want rows, straight
// through the database (Plinth created the table; it is not restarted). It
// returns the ids added. SQLite gets multi-row INSERTs from one prepared
// statement inside one transaction, with a large page cache for the
// duration (the primary key and the score index are filled in random
// order); PostgreSQL gets one COPY.
func seedTable(ctx context.Context, ds *dataStore, table string, want int, owners []string, seed uint64) ([]string, error) {
	var have int
	if err := ds.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM "`+table+`"`).Scan(&have); err != nil {
		return nil, fmt.Errorf("count %s: %w", table, err)
	}
	if have >= want {
		return nil, nil
	}
	gen := &rowGen{
		rng:    rand.New(rand.NewPCG(seed, uint64(have))),
		epoch:  time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		owners: owners,
		next:   have,
		ids:    make([]string, 0, want-have),
	}
	conn, err := ds.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if ds.driver == "postgres" {
		err = copyRows(ctx, conn, table, want-have, gen)
	} else {
		err = insertRows(ctx, ds, conn, table, want-have, gen)
	}
	if err != nil {
		return nil, fmt.Errorf("seed %s: %w", table, err)
	}
	// Fresh statistics for both servers' query planners alike.
	_, err = conn.ExecContext(ctx, `ANALYZE "`+table+`"`)
	return gen.ids, err
}

// rowGen hands out consecutive seeded rows and remembers their ids.
type rowGen struct {
	rng    *rand.Rand
	epoch  time.Time
	owners []string
	next   int // index of the next row
	ids    []string
}

func (g *rowGen) row() []any {
	r := seedRow(g.rng, g.next, g.owners, g.epoch)
	g.next++
	g.ids = append(g.ids, r[0].(string))
	return r
}

// seedCacheKiB is SQLite's page cache while seeding (negative cache_size
// is in KiB): large enough for the indexes of a million-row table, so that
// random-order index inserts do not spill and re-read pages.
const seedCacheKiB = 512 << 10

// insertRows adds n rows to an SQLite table in one transaction, perStmt
// rows per INSERT through one prepared statement.
func insertRows(ctx context.Context, ds *dataStore, conn *sql.Conn, table string, n int, gen *rowGen) error {
	var cache int
	if err := conn.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cache); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", seedCacheKiB)); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA cache_size = %d", cache))

	const perStmt = 1000 // 9000 parameters, under SQLite's 32766
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var stmt *sql.Stmt
	if n >= perStmt {
		if stmt, err = tx.PrepareContext(ctx, insertSQL(ds, table, perStmt)); err != nil {
			return err
		}
		defer stmt.Close()
	}
	args := make([]any, 0, perStmt*len(postColumns))
	for done := 0; done < n; {
		k := min(perStmt, n-done)
		args = args[:0]
		for range k {
			args = append(args, gen.row()...)
		}
		if k == perStmt {
			_, err = stmt.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insertSQL(ds, table, k), args...)
		}
		if err != nil {
			return err
		}
		done += k
	}
	return tx.Commit()
}

// copyRows adds n rows to a PostgreSQL table with one COPY, generated as
// they are sent.
func copyRows(ctx context.Context, conn *sql.Conn, table string, n int, gen *rowGen) error {
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("COPY needs a pgx connection, got %T", driverConn)
		}
		src := pgx.CopyFromSlice(n, func(int) ([]any, error) { return gen.row(), nil })
		copied, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, postColumns, src)
		if err == nil && copied != int64(n) {
			err = fmt.Errorf("COPY wrote %d rows, want %d", copied, n)
		}
		return err
	})
}
