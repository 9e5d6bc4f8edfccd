package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// apiClient makes the setup calls (not the measured ones) to a server.
type apiClient struct {
	base  string
	http  *http.Client
	token string // sent as Authorization when set
}

func newAPIClient(base string) *apiClient {
	return &apiClient{base: base, http: &http.Client{Timeout: 30 * time.Second}}
}

// httpError is a non-2xx answer: it keeps the request for the report.
type httpError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *httpError) Error() string {
	return fmt.Sprintf("%s %s: status %d: %s", e.Method, e.Path, e.Status, e.Body)
}

// do sends body (JSON-encoded when not nil) and decodes a 2xx answer into out
// (when not nil). A non-2xx answer returns *httpError.
func (c *apiClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		if len(raw) > 400 {
			raw = raw[:400]
		}
		return &httpError{Method: method, Path: path, Status: resp.StatusCode, Body: string(raw)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%s %s: decode: %w", method, path, err)
	}
	return nil
}

// authResult is the part of an auth answer the harness needs.
type authResult struct {
	Token  string `json:"token"`
	Record struct {
		ID string `json:"id"`
	} `json:"record"`
}

// login authenticates against collection with identity and password.
func (c *apiClient) login(ctx context.Context, collection, identity, password string) (authResult, error) {
	var res authResult
	err := c.do(ctx, http.MethodPost, "/api/collections/"+collection+"/auth-with-password",
		map[string]string{"identity": identity, "password": password}, &res)
	return res, err
}
