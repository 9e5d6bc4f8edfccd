package oauth2

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"time"
)

// Factory builds a provider from its configuration. hc is the HTTP client
// the provider must use for every outgoing request.
type Factory func(ctx context.Context, cfg Config, hc *http.Client) (Provider, error)

// builtins is filled by the init functions of the provider files and is
// read-only afterwards.
var builtins = map[string]Factory{}

// register adds a built-in provider; only called from init functions.
func register(name string, f Factory) {
	if _, dup := builtins[name]; dup {
		panic("oauth2: duplicate provider " + name)
	}
	builtins[name] = f
}

// Registry maps provider names to factories. A Registry returned by
// NewRegistry holds all built-in providers; Register adds more. A Registry
// is safe for concurrent use once registration is done.
type Registry struct {
	hc        *http.Client
	factories map[string]Factory
}

// NewRegistry returns a registry with the built-in providers. Providers it
// creates use hc for outgoing requests; nil means a client with a 15 second
// timeout.
func NewRegistry(hc *http.Client) *Registry {
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	r := &Registry{hc: hc, factories: make(map[string]Factory, len(builtins))}
	for name, f := range builtins {
		r.factories[name] = f
	}
	return r
}

// Register adds or replaces the factory for name. It must not be called
// concurrently with New.
func (r *Registry) Register(name string, f Factory) {
	r.factories[name] = f
}

// Names returns the registered provider names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.factories))
	for name := range r.factories {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// New builds the provider called name. OpenID Connect providers whose
// endpoints are not all known may fetch the discovery document with ctx.
func (r *Registry) New(ctx context.Context, name string, cfg Config) (Provider, error) {
	f, ok := r.factories[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownProvider, name)
	}
	if cfg.ClientID == "" {
		return nil, fmt.Errorf("%w: %s: client ID is required", ErrMissingConfig, name)
	}
	return f(ctx, cfg, r.hc)
}
