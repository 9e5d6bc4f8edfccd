// Package filter implements PocketBase's filter and rule language: it parses
// expressions such as
//
//	title ~ "go" && (author.name = @request.auth.name || tags.name ?= "news")
//
// validates them against the schema and compiles them to boolean SQL for
// SQLite and PostgreSQL. The package is pure: it never talks to a database.
//
// # Values and types
//
// Every operand has a static type (text, number, bool, json or null) and
// comparisons coerce both sides to one type so that PostgreSQL never sees
// mismatched types and both databases return the same rows:
//
//   - number vs a numeric string literal compares as numbers; number vs a
//     non-numeric string literal is never equal (and never ordered), so only
//     != holds; number vs a text column compares as text (numbers printed
//     without a trailing ".0").
//   - bool vs number: 0 is false, any other number true; bool vs the strings
//     "true"/"1"/"false"/"0" compares as bool; bool vs a text column compares
//     with "true"/"false".
//   - json values (json fields, json paths, geoPoint) compare as the JSON
//     scalar type of the other side: meta.a = 5 only matches the JSON number
//     5, meta.a = "5" only the JSON string "5". json vs json compares their
//     text forms.
//   - = and != are null-safe. Comparing with null or "" (= and !=) tests for
//     emptiness: SQL NULL, ” and, for json, a missing key or JSON null are
//     all empty. number and bool columns are never empty. Ordering against
//     null is always false.
//
// # LIKE
//
// a ~ b is a case-insensitive "contains". When the right side is a static
// value without "%", it is wrapped as "%value%"; when it contains "%", the
// "%" are wildcards and the value is used as is. In both cases "_" and "\"
// are literal (they are escaped; "ESCAPE '\'"). When the right side is
// dynamic (a column) it is always a literal contains. Case-insensitivity is
// ASCII-only on SQLite (LIKE) and Unicode on PostgreSQL (ILIKE); :lower has
// the same caveat (SQLite's LOWER is ASCII-only).
//
// # Multi-valued operands
//
// Multi-valued fields (multiple select, relation, file), paths through
// multiple relations or back-relations (comments_via_post.message) and
// @request.body lists are sets. The "?op" forms hold when at least one
// element matches; the plain forms (and :each) when every element matches.
// An empty set behaves like a single NULL element, so tags = "" and
// tags ?= "" are true for an empty list, while tags = "x" is false.
//
// # @collection
//
// Each distinct @collection alias (the collection name, or the name after
// ":") is joined once for the whole expression, as PocketBase does: the
// expression is wrapped in EXISTS over a LEFT JOIN of every referenced
// @collection alias, so two conditions on the same alias must hold for the
// same row, while distinct aliases are independent. An empty collection
// yields one row of NULLs.
//
// # Sorting
//
// CompileSort orders NULLs first in ascending and last in descending order
// on both databases (SQLite's default), and compares text with the "C"
// collation on PostgreSQL so that it orders bytewise like SQLite.
//
// # Restrictions
//
// password fields cannot be filtered (and @request.auth.password and
// tokenKey read as null); hiding other hidden fields from non-superusers is
// the caller's business. strftime only reads "YYYY-MM-DD..." text on both
// databases (other input yields NULL); on PostgreSQL it supports %Y %m %d %H
// %M %S %f %j %w %W and %%. Limits: MaxLength, MaxDepth, MaxHops,
// MaxSortTerms. Filters must be valid UTF-8 without NUL characters.
//
// # Known differences
//
// Non-ASCII case folding (see above); json numbers printed as text may
// differ (1.50 is "1.5" on SQLite and "1.50" on PostgreSQL); a numeric json
// path segment is an array index on SQLite but an index or a key on
// PostgreSQL.
package filter
