// Package realtime is Plinth's realtime service: PocketBase's
// Server-Sent Events protocol (GET/POST /api/realtime), a WebSocket variant
// (/api/realtime/ws), and a Bus that lets several instances behind a load
// balancer act as one.
//
// A Broker holds this instance's clients and their subscriptions and fans
// record events out to them. Access rules are not evaluated here: the
// Broker groups the subscribers an event concerns by everything that can
// change the answer (auth, list-or-view rule, query and header options)
// and asks the application's Authorizer once per group, then sends the
// same pre-encoded frame to every member. Publish never blocks; a client
// that cannot keep up is disconnected rather than slowing anyone else.
//
// Idle clients are cheap: an SSE stream on HTTP/1.1 lives on a hijacked
// connection with no goroutine of its own, a WebSocket on its reader
// goroutine. Frames are written by a flush goroutine that exists only
// while a client has frames queued; one sweeper goroutine per Broker
// handles timeouts, notices SSE peers that went away and starts WebSocket
// pings.
//
// Clients may also subscribe to custom topics such as "@oauth2" (see
// Subscription.Custom), which record events never reach; the application
// sends to them with Broker.SendToClient.
//
// A Handler serves the HTTP endpoints for a Broker; the application
// resolves the caller's Auth for POST /api/realtime and mounts:
//
//	b, _ := realtime.NewBroker(realtime.Config{Authorizer: authz, Bus: bus})
//	h := realtime.NewHandler(b, realtime.HandlerConfig{Authenticate: authenticate})
//	mux.HandleFunc("GET /api/realtime", h.ServeSSE)
//	mux.HandleFunc("POST /api/realtime", func(w http.ResponseWriter, r *http.Request) {
//		h.Subscribe(w, r, authOf(r))
//	})
//	mux.HandleFunc("GET /api/realtime/ws", h.ServeWS)
//	srv.RegisterOnShutdown(func() { b.Close() })
//
// Buses: nil (one instance), MemoryBus (several brokers in one process),
// NATSBus (NATS core pub/sub) and PostgresBus (LISTEN/NOTIFY with an outbox
// table for large messages). The protocols, limits and metrics are
// described in docs/realtime.md.
package realtime
