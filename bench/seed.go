package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
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

// seedTable inserts rows into table until it holds want rows, with
// multi-row INSERTs inside one transaction, straight through database/sql
// (Plinth created the table; it is not restarted). It returns the ids added.
func seedTable(ctx context.Context, ds *dataStore, table string, want int, owners []string, seed uint64) ([]string, error) {
	var have int
	if err := ds.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM "`+table+`"`).Scan(&have); err != nil {
		return nil, fmt.Errorf("count %s: %w", table, err)
	}
	if have >= want {
		return nil, nil
	}
	rng := rand.New(rand.NewPCG(seed, uint64(have)))
	epoch := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	const perStmt = 500

	tx, err := ds.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	ids := make([]string, 0, want-have)
	args := make([]any, 0, perStmt*len(postColumns))
	stmts := map[int]string{} // rows per statement -> SQL
	for i := have; i < want; {
		n := min(perStmt, want-i)
		q, ok := stmts[n]
		if !ok {
			q = insertSQL(ds, table, n)
			stmts[n] = q
		}
		args = args[:0]
		for j := range n {
			row := seedRow(rng, i+j, owners, epoch)
			ids = append(ids, row[0].(string))
			args = append(args, row...)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return nil, fmt.Errorf("seed %s: %w", table, err)
		}
		i += n
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	// Fresh statistics for both servers' query planners alike.
	_, err = ds.db.ExecContext(ctx, `ANALYZE "`+table+`"`)
	return ids, err
}
