// Package schema defines Plinth's collections, their typed fields and the
// records they hold, with validation. It is pure: it does no I/O and knows no
// SQL dialect beyond the abstract storage class of each field.
//
// Each field type lives in its own file (field_text.go, field_number.go, …)
// and registers itself at init time with [Register]; the registry is written
// only during package initialisation and read-only afterwards.
package schema
