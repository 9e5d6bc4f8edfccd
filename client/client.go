package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// Client calls one Plinth (or PocketBase) server. Create it with New.
type Client struct {
	base string
	hc   *http.Client

	mu    sync.RWMutex
	token string
}

// Option configures a Client in New.
type Option func(*Client)

// WithHTTPClient makes the client send its requests through hc instead of
// http.DefaultClient: for timeouts, proxies or a custom transport.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithToken starts the client with an auth token (a record token or an
// API key), sent as the Authorization header of every request.
func WithToken(token string) Option {
	return func(c *Client) { c.token = token }
}

// New returns a client for the server at baseURL, such as
// "http://127.0.0.1:8090" (a trailing slash is ignored; a path prefix is
// kept, for a server mounted under one).
func New(baseURL string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), hc: http.DefaultClient}
	for _, o := range opts {
		o(c)
	}
	return c
}

// Token returns the auth token the client sends, "" when none.
func (c *Client) Token() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.token
}

// SetToken replaces the auth token; "" signs the client out.
func (c *Client) SetToken(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = token
}

// Send is the escape hatch for operations without a typed method (creating
// collections, settings, logs, ...): it sends method to path (which may
// carry a query string, e.g. "/api/logs?perPage=10") with body encoded as
// JSON unless nil, and decodes a JSON answer into out unless out is nil.
// An answer other than 2xx is returned as an [*Error]. Unlike the typed
// methods, Send's paths are not in [Operations].
func (c *Client) Send(ctx context.Context, method, path string, body, out any) error {
	return c.send(ctx, method, path, nil, body, out)
}

// send does one request: path is already escaped, query is added to it.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("plinth: %s %s: encode body: %w", method, path, err)
		}
		rd = bytes.NewReader(data)
	}
	target := c.base + path
	if len(query) > 0 {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		target += sep + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return fmt.Errorf("plinth: %s %s: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token := c.Token(); token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("plinth: %s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		return fmt.Errorf("plinth: %s %s: read answer: %w", method, path, err)
	}
	bare, _, _ := strings.Cut(path, "?")
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return decodeError(method, bare, res.StatusCode, data)
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("plinth: %s %s: decode answer: %w", method, bare, err)
	}
	return nil
}

// call sends the table's operation o, its path parameters args.
func (c *Client) call(ctx context.Context, o op, args []string, query url.Values, body, out any) error {
	method, path := o.request(args...)
	return c.send(ctx, method, path, query, body, out)
}

// Health is the answer of GET /api/health.
type Health struct {
	// Code is 200 when healthy.
	Code int `json:"code"`
	// Message is "API is healthy." when healthy.
	Message string `json:"message"`
	// Data carries details; superusers also get the version.
	Data map[string]any `json:"data"`
}

// Health asks the server whether it is up (it pings its database).
func (c *Client) Health(ctx context.Context) (*Health, error) {
	var h Health
	if err := c.call(ctx, opHealth, nil, nil, nil, &h); err != nil {
		return nil, err
	}
	return &h, nil
}
