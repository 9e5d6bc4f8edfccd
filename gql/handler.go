package gql

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/coder/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plinthdev/plinth/api"
	"github.com/plinthdev/plinth/authflow"
	"github.com/plinthdev/plinth/realtime"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/settings"
	"github.com/plinthdev/plinth/store"
)

// Defaults of the limits (see settings.GraphQL).
const (
	DefaultMaxDepth      = 10
	DefaultMaxComplexity = 50000
	DefaultMaxLimit      = 1000
	// DefaultLimit is a list's limit when the query gives none.
	DefaultLimit = 100
	// maxBody bounds a GraphQL request body.
	maxBody = 1 << 20
)

// Limits are the limits in force for one request.
type Limits struct {
	Introspection bool
	MaxDepth      int
	MaxComplexity int
	MaxLimit      int
	DefaultLimit  int
}

// Config is what the handler is built from.
type Config struct {
	// Server resolves callers (tokens, API keys) and runs writes as REST.
	Server *api.Server
	Store  *store.Store
	// Records and Auth default to the server's.
	Records *record.Service
	Auth    *authflow.Service
	// Broker feeds subscriptions (nil: subscriptions answer an error).
	Broker *realtime.Broker
	// Settings returns the current settings (nil: the defaults).
	Settings func() *settings.Settings
	Log      *slog.Logger
}

// Handler serves /api/graphql.
type Handler struct {
	srv      *api.Server
	store    *store.Store
	records  *record.Service
	auth     *authflow.Service
	broker   *realtime.Broker
	settings func() *settings.Settings
	log      *slog.Logger

	// cur is the schema in use; it is replaced, never changed, when the
	// store's schema snapshot changes.
	cur     atomic.Pointer[instance]
	buildMu sync.Mutex
	builds  atomic.Int64
}

// instance is one model and the gqlgen server over it.
type instance struct {
	m   *model
	srv *handler.Server
}

// New returns the handler; the schema is built on first use.
func New(cfg Config) *Handler {
	h := &Handler{srv: cfg.Server, store: cfg.Store, records: cfg.Records, auth: cfg.Auth,
		broker: cfg.Broker, settings: cfg.Settings, log: cfg.Log}
	if h.records == nil {
		h.records = cfg.Server.Records()
	}
	if h.auth == nil {
		h.auth = cfg.Server.Auth()
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	// A local collection change rebuilds at once; a change made by another
	// instance reaches this one as a new snapshot (its schema signal makes
	// the store reload), which current notices on the next request.
	h.store.OnSchemaChange(func() {
		go func() { _, _ = h.current() }()
	})
	return h
}

// Builds is how many times the schema was built, for tests.
func (h *Handler) Builds() int64 { return h.builds.Load() }

// SDL returns the GraphQL schema in use, in the schema definition language.
func (h *Handler) SDL() (string, error) {
	inst, err := h.current()
	if err != nil {
		return "", err
	}
	return inst.m.sdl, nil
}

// limits are the limits of the current settings.
func (h *Handler) limits() Limits {
	var g settings.GraphQL
	if h.settings != nil {
		if s := h.settings(); s != nil {
			g = s.GraphQL
		}
	}
	l := Limits{Introspection: !g.DisableIntrospection, MaxDepth: g.MaxDepth, MaxComplexity: g.MaxComplexity, MaxLimit: g.MaxLimit, DefaultLimit: DefaultLimit}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	if l.MaxComplexity <= 0 {
		l.MaxComplexity = DefaultMaxComplexity
	}
	if l.MaxLimit <= 0 {
		l.MaxLimit = DefaultMaxLimit
	}
	l.DefaultLimit = min(l.DefaultLimit, l.MaxLimit)
	return l
}

// current returns the instance of the store's current schema snapshot,
// building it when the snapshot changed. Requests in flight keep the
// instance they started with; the swap is one pointer store.
func (h *Handler) current() (*instance, error) {
	snap := h.store.Schema()
	if inst := h.cur.Load(); inst != nil && inst.m.snap == snap {
		return inst, nil
	}
	h.buildMu.Lock()
	defer h.buildMu.Unlock()
	snap = h.store.Schema()
	if inst := h.cur.Load(); inst != nil && inst.m.snap == snap {
		return inst, nil
	}
	m, err := buildModel(snap)
	if err != nil {
		return nil, err
	}
	inst := &instance{m: m, srv: h.newServer(m)}
	h.cur.Store(inst)
	h.builds.Add(1)
	return inst, nil
}

func (h *Handler) newServer(m *model) *handler.Server {
	srv := handler.New(&executor{h: h, m: m})
	srv.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 10 * time.Second,
		// Browsers on other origins are allowed, as for REST (CORS is open)
		// and realtime: the token, not the origin, authenticates.
		Implementation: transport.CoderWebsocketImplementation{AcceptOptions: websocket.AcceptOptions{InsecureSkipVerify: true}},
		InitFunc:       h.wsInit,
	})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(transport.POST{})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(limitsExtension{h: h, es: &executor{h: h, m: m}})
	srv.SetRecoverFunc(func(ctx context.Context, err any) error {
		h.log.ErrorContext(ctx, "graphql panic", "err", err)
		return gqlerror.Errorf("internal error")
	})
	return srv
}

// ServeHTTP resolves the caller as REST does and hands the request to the
// current schema's server.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	inst, err := h.current()
	if err != nil {
		h.log.ErrorContext(r.Context(), "graphql schema", "err", err)
		api.WriteError(w, http.StatusServiceUnavailable, "The GraphQL schema could not be built.", nil)
		return
	}
	st := &reqState{r: r, caller: h.srv.Caller(r)}
	ctx := context.WithValue(r.Context(), stateKey{}, st)
	if r.Header.Get("Upgrade") == "" {
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		w = &statusWriter{ResponseWriter: w}
	}
	inst.srv.ServeHTTP(w, r.WithContext(ctx))
}

// statusWriter answers gqlgen's 422 (a query that does not parse or
// validate) as 400, the status of a bad request everywhere else in the
// API.
type statusWriter struct{ http.ResponseWriter }

func (w *statusWriter) WriteHeader(code int) {
	if code == http.StatusUnprocessableEntity {
		code = http.StatusBadRequest
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// wsInit authenticates a WebSocket with the connection_init payload's
// token ("Authorization" or "token"), or keeps the upgrade request's
// Authorization header.
func (h *Handler) wsInit(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
	st := stateFrom(ctx)
	if st == nil {
		return ctx, nil, fmt.Errorf("request state missing")
	}
	token := payload.Authorization()
	if token == "" {
		token = payload.GetString("token")
	}
	if token == "" {
		token = payload.GetString("authorization")
	}
	if token == "" {
		return ctx, nil, nil
	}
	r, err := h.srv.WithToken(st.r, token)
	if err != nil {
		return ctx, nil, err
	}
	next := &reqState{r: r, caller: h.srv.Caller(r)}
	return context.WithValue(ctx, stateKey{}, next), nil, nil
}

// limitsExtension applies the settings' limits to each operation:
// introspection, depth, complexity.
type limitsExtension struct {
	h  *Handler
	es graphql.ExecutableSchema
}

// ExtensionName names the extension.
func (limitsExtension) ExtensionName() string { return "PlinthLimits" }

// Validate accepts any schema.
func (limitsExtension) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext checks the limits before the operation runs.
func (e limitsExtension) MutateOperationContext(ctx context.Context, op *graphql.OperationContext) *gqlerror.Error {
	l := e.h.limits()
	op.DisableIntrospection = !l.Introspection
	if d := depth(op, op.Operation.SelectionSet, map[string]bool{}); d > l.MaxDepth {
		return limitError(fmt.Sprintf("The query is %d levels deep, more than the limit of %d.", d, l.MaxDepth))
	}
	if c := complexityOf(ctx, e.es, op); c > l.MaxComplexity {
		return limitError(fmt.Sprintf("The query's complexity is %d, more than the limit of %d.", c, l.MaxComplexity))
	}
	return nil
}

func limitError(msg string) *gqlerror.Error {
	return &gqlerror.Error{Message: msg, Extensions: map[string]any{"status": http.StatusBadRequest, "code": "LIMIT_EXCEEDED"}}
}

// depth is how deeply sel nests, through fragments, not counting
// introspection fields (their depth is bounded by gqlparser's own rule).
func depth(op *graphql.OperationContext, sel ast.SelectionSet, visiting map[string]bool) int {
	d := 0
	for _, s := range sel {
		var n int
		switch s := s.(type) {
		case *ast.Field:
			if strings.HasPrefix(s.Name, "__") {
				continue
			}
			n = 1
			if len(s.SelectionSet) > 0 {
				n += depth(op, s.SelectionSet, visiting)
			}
		case *ast.InlineFragment:
			n = depth(op, s.SelectionSet, visiting)
		case *ast.FragmentSpread:
			if visiting[s.Name] {
				continue
			}
			if f := op.Doc.Fragments.ForName(s.Name); f != nil {
				visiting[s.Name] = true
				n = depth(op, f.SelectionSet, visiting)
				delete(visiting, s.Name)
			}
		}
		d = max(d, n)
	}
	return d
}

// complexityOf is gqlgen's complexity of the operation under the
// executor's weights.
func complexityOf(ctx context.Context, es graphql.ExecutableSchema, op *graphql.OperationContext) int {
	return complexity.Calculate(ctx, es, op.Operation, op.Variables)
}
