// Package plinth is the public Go API of Plinth, a single-binary backend:
// runtime-defined collections in real SQL tables (SQLite or PostgreSQL)
// served through a PocketBase-compatible REST API.
//
// Embed it as a framework:
//
//	app, err := plinth.New(ctx, plinth.Config{DataDir: "./plinth_data"}, logger)
//	if err != nil { ... }
//	defer app.Close()
//	err = app.Serve(ctx) // until ctx is cancelled, then a graceful shutdown
package plinth
