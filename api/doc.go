// Package api serves Plinth's HTTP API on the standard library's mux:
// PocketBase-compatible collections, records, batch and auth endpoints,
// health and metrics. Handlers are thin: they parse the request, call a
// capability and encode the answer; every error becomes PocketBase's
// {status, message, data} shape in one place (errors.go).
package api
