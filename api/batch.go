package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

type batchRequest struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    map[string]any    `json:"body"`
	// uploads are the request's file parts (batchUploads in files.go).
	uploads []*files.Upload
}

type batchResult struct {
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
}

// batchFailure is the error data of a batch that rolled back: which
// request failed and the error it would have had on its own.
type batchFailure struct {
	Code     string    `json:"code"`
	Message  string    `json:"message"`
	Response errorBody `json:"response"`
}

// batch runs record creates, updates, upserts and deletes in one
// transaction: either all succeed or none is kept.
func (s *Server) batch(w http.ResponseWriter, r *http.Request) error {
	bs := s.currentSettings().s.Batch
	if !bs.Enabled {
		return forbidden("Batch requests are not allowed.")
	}
	// The body's size limits come from the route (batchLimits).
	ctx, cancel := context.WithTimeout(r.Context(), seconds(bs.Timeout, 30*time.Second))
	defer cancel()
	r = r.WithContext(ctx)
	body, err := s.decodeBody(w, r, true)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(body["requests"])
	if err != nil {
		return badRequest("Invalid batch body.", err)
	}
	var reqs []batchRequest
	if err := json.Unmarshal(raw, &reqs); err != nil || len(reqs) == 0 {
		return &Error{Status: http.StatusBadRequest, Message: "Invalid batch body: expected {\"requests\": [{method, url, body}]}.",
			Data: schema.Errors{"requests": schema.NewFieldError("validation_required", "At least one request is required.")}, Cause: err}
	}
	if len(reqs) > bs.MaxRequests {
		return &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("A batch may hold at most %d requests.", bs.MaxRequests),
			Data: schema.Errors{"requests": schema.NewFieldError("validation_length_too_long", fmt.Sprintf("At most %d requests.", bs.MaxRequests))}}
	}
	if err := s.batchUploads(r, reqs); err != nil {
		return err
	}
	txCtx, err := s.batchPrepare(r, reqs) // batchauth.go: auth-create limit, bcrypt before the tx
	if err != nil {
		return err
	}
	results := make([]batchResult, len(reqs))
	failed := -1
	var failErr error
	err = s.fileTx(txCtx, func(ctx context.Context, tx *store.Tx) error {
		for i, br := range reqs {
			res, err := s.batchOne(r.WithContext(ctx), tx, br)
			if err == nil {
				err = tx.Flush(ctx) // a write's error belongs to its request
			}
			if err != nil {
				failed, failErr = i, err
				return err
			}
			results[i] = res
		}
		return nil
	})
	if err != nil {
		if failed < 0 {
			return err
		}
		e := toError(failErr)
		if e.Status >= 500 {
			return err
		}
		data := e.Data
		if data == nil {
			data = struct{}{}
		}
		return &Error{Status: http.StatusBadRequest, Message: "Batch transaction failed.", Cause: failErr,
			Data: map[string]any{"requests": map[string]any{fmt.Sprint(failed): batchFailure{
				Code: "batch_request_failed", Message: "Batch request failed.",
				Response: errorBody{Status: e.Status, Message: e.Message, Data: data},
			}}}}
	}
	writeJSON(w, http.StatusOK, results)
	return nil
}

func (s *Server) batchOne(r *http.Request, tx *store.Tx, br batchRequest) (batchResult, error) {
	u, err := url.Parse(br.URL)
	if err != nil {
		return batchResult{}, badRequest("Invalid batch request url.", err)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) < 4 || len(parts) > 5 || parts[0] != "api" || parts[1] != "collections" || parts[3] != "records" {
		return batchResult{}, badRequest("Batch requests must target /api/collections/{collection}/records[/{id}].", nil)
	}
	name, _ := url.PathUnescape(parts[2])
	c := tx.Schema().Lookup(name)
	if c == nil {
		return batchResult{}, &Error{Status: http.StatusNotFound, Message: "Missing collection context."}
	}
	id := ""
	if len(parts) == 5 {
		id, _ = url.PathUnescape(parts[4])
	}
	if br.Body == nil {
		br.Body = map[string]any{}
	}
	sub := r.Clone(r.Context())
	sub.Method = strings.ToUpper(br.Method)
	sub.URL = u
	sub.Header = http.Header{}
	for k, v := range br.Headers {
		sub.Header.Set(k, v)
	}
	cl := s.caller(sub, br.Body)
	cl.Auth, cl.Request.Auth = authRecord(r), authRecord(r)
	cl.Uploads = br.uploads
	ro, err := parseReadOptions(sub)
	if err != nil {
		return batchResult{}, err
	}
	ro.enc.viewer = authRecord(r)
	ctx := r.Context()
	var rec *schema.Record
	switch {
	case sub.Method == http.MethodPost && id == "":
		rec, err = s.records.Create(ctx, tx, cl, c, br.Body)
	case sub.Method == http.MethodPatch && id != "":
		rec, err = s.records.Update(ctx, tx, cl, c, id, br.Body)
	case sub.Method == http.MethodDelete && id != "":
		_, err = s.records.Delete(ctx, tx, cl, c, id)
		if err != nil {
			return batchResult{}, err
		}
		return batchResult{Status: http.StatusNoContent, Body: json.RawMessage("null")}, nil
	case sub.Method == http.MethodPut && id == "":
		rec, err = s.upsert(r, tx, cl, c, br.Body)
	default:
		return batchResult{}, badRequest(fmt.Sprintf("Unsupported batch request %s %s.", br.Method, u.Path), nil)
	}
	if err != nil {
		return batchResult{}, err
	}
	if err := s.records.Expand(ctx, cl, c, []*schema.Record{rec}, ro.expand); err != nil {
		return batchResult{}, err
	}
	return batchResult{Status: http.StatusOK, Body: rec.AppendJSON(nil, ro.enc.schemaOptions())}, nil
}

// upsert updates the record named by body.id when it exists and the caller
// may update it, else creates it. A record the caller may not update (one
// it cannot see included) is handled as missing: the create then answers
// exactly as a plain create of that id would (a unique-id error, or the
// create rule's refusal), so the answer tells the caller nothing a create
// would not.
func (s *Server) upsert(r *http.Request, tx *store.Tx, cl *record.Caller, c *schema.Collection, body map[string]any) (*schema.Record, error) {
	id, _ := body["id"].(string)
	if id != "" && schema.ValidID(id) {
		ok, err := s.records.Updatable(r.Context(), tx, cl, c, id)
		if err != nil {
			return nil, err
		}
		if ok {
			rest := make(map[string]any, len(body))
			for k, v := range body {
				if k != "id" {
					rest[k] = v
				}
			}
			return s.records.Update(r.Context(), tx, cl, c, id, rest)
		}
	}
	return s.records.Create(r.Context(), tx, cl, c, body)
}
