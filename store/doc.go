// Package store is Plinth's database layer: one small [Dialect] seam with
// SQLite and PostgreSQL implementations, versioned migrations of the system
// tables, the DDL that turns collections into real tables and indexes, and
// the record queries and transactions built on them.
//
// Collections are cached in memory as an immutable [Schema] snapshot that is
// swapped atomically after every collection change, so request paths never
// reload the schema.
package store
