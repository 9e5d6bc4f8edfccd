package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
)

// BatchRequest is one write of a batch. Build it with BatchCreate,
// BatchUpsert, BatchUpdate or BatchDelete.
type BatchRequest struct {
	// Method is POST (create), PUT (upsert), PATCH (update) or DELETE.
	Method string `json:"method"`
	// URL is the record path, e.g. "/api/collections/posts/records".
	URL string `json:"url"`
	// Body is the record body, for all but DELETE.
	Body any `json:"body,omitempty"`
}

// BatchCreate is a batched Create.
func BatchCreate(collection string, body any) BatchRequest {
	_, path := opCreate.request(collection)
	return BatchRequest{Method: http.MethodPost, URL: path, Body: body}
}

// BatchUpsert is a batched create-or-update: body must carry the "id";
// the record is updated when it exists, created otherwise.
func BatchUpsert(collection string, body any) BatchRequest {
	_, path := opCreate.request(collection)
	return BatchRequest{Method: http.MethodPut, URL: path, Body: body}
}

// BatchUpdate is a batched Update.
func BatchUpdate(collection, id string, body any) BatchRequest {
	_, path := opUpdate.request(collection, id)
	return BatchRequest{Method: http.MethodPatch, URL: path, Body: body}
}

// BatchDelete is a batched Delete.
func BatchDelete(collection, id string) BatchRequest {
	_, path := opDelete.request(collection, id)
	return BatchRequest{Method: http.MethodDelete, URL: path}
}

// BatchResult is the answer to one request of a batch that succeeded.
type BatchResult struct {
	// Status is the request's own status: 200, or 204 for a delete.
	Status int `json:"status"`
	// Body is the request's own answer (the record; null for a delete).
	Body json.RawMessage `json:"body"`
}

// Record decodes the result's body as a record; nil for a delete.
func (r BatchResult) Record() (Record, error) {
	var rec Record
	if err := json.Unmarshal(r.Body, &rec); err != nil {
		return nil, fmt.Errorf("plinth: decode batch result: %w", err)
	}
	return rec, nil
}

// Batch runs the writes in one transaction: all succeed, or none is kept.
// When one fails the error is a 400 [*Error]; its BatchFailure says which
// request failed and why.
func (c *Client) Batch(ctx context.Context, requests ...BatchRequest) ([]BatchResult, error) {
	var res []BatchResult
	body := map[string]any{"requests": requests}
	if err := c.call(ctx, opBatch, nil, nil, body, &res); err != nil {
		return nil, err
	}
	return res, nil
}

// BatchFailure returns, for the error of a batch that was rolled back, the
// index of the request that failed and the error that request got (its
// status, message and field data). ok is false for any other error.
func (e *Error) BatchFailure() (index int, cause *Error, ok bool) {
	reqs, _ := e.Data["requests"].(map[string]any)
	for key, v := range reqs {
		i, err := strconv.Atoi(key)
		f, _ := v.(map[string]any)
		resp, _ := f["response"].(map[string]any)
		if err != nil || resp == nil {
			continue
		}
		data, err := json.Marshal(resp)
		if err != nil {
			continue
		}
		cause = decodeError("", "", 0, data)
		if s, ok := resp["status"].(float64); ok {
			cause.Status = int(s)
		}
		return i, cause, true
	}
	return 0, nil, false
}
