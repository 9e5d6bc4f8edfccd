// Package client is a small, typed Go client for Plinth's REST API, which
// speaks PocketBase's wire format: records, password sign-in, token
// refresh, batches, health and reading collections.
//
// Every call takes a context first and returns a typed error: an API
// answer other than 2xx is an [*Error] carrying the status, message and
// per-field data of PocketBase's {status, message, data} body, so
//
//	var apiErr *client.Error
//	if errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound { ... }
//
// works whatever wrapped it. Transport failures (a refused connection, a
// cancelled context) are returned wrapped with %w instead.
//
// Records come back as [Record], a map with typed accessors; [ListAs] and
// [ViewAs] decode them into the caller's own structs. [Filter] binds values
// into a filter expression the way the JavaScript SDK's pb.filter does, so
// user input never needs hand quoting.
//
// The client is checked against the OpenAPI document the server publishes
// at GET /api/openapi.json: every operation it calls is listed in one
// table, [Operations], with its method and the document's path template,
// and the package's tests start a real server on SQLite and PostgreSQL,
// assert that each operation is in the document, and validate every
// request the client sends and every response it receives against it. See
// docs/client.md.
//
// A Client is safe for concurrent use. It keeps one piece of state, the
// auth token, which the sign-in methods set.
package client
