// Package record provides access-controlled record operations: list,
// view, create, update, delete and expand, each enforcing the collection's
// rules for the caller. The HTTP handlers and the batch endpoint share it,
// so a batch request is checked exactly like a single one.
package record
