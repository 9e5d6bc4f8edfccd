package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
)

// maxBatchAuthCreates is how many auth records one batch may create (or
// upsert) for a caller other than a superuser or an API key in scope. Each
// costs a bcrypt hash; a guest batch of 50 sign-ups was a cheap way to
// make the server hash for seconds. Sign-ups one by one still go through
// the rate limits.
const maxBatchAuthCreates = 5

// batchPrepare runs before a batch's transaction: it refuses a batch that
// creates too many auth records (400), and hashes the passwords the
// batch's creates and updates set (record.Service.HashAhead), so that no
// bcrypt runs while the transaction holds the writer. It returns the
// context to run the transaction with. Requests it cannot make sense of
// are left for batchOne to report.
func (s *Server) batchPrepare(r *http.Request, reqs []batchRequest) (context.Context, error) {
	type target struct {
		c      *schema.Collection
		cl     *record.Caller
		method string
		id     string
		body   map[string]any
	}
	snap := s.store.Schema()
	targets := make([]target, 0, len(reqs))
	authCreates := 0
	for _, br := range reqs {
		u, err := url.Parse(br.URL)
		if err != nil {
			continue
		}
		parts := strings.Split(strings.Trim(u.Path, "/"), "/")
		if len(parts) < 4 || len(parts) > 5 || parts[0] != "api" || parts[1] != "collections" || parts[3] != "records" {
			continue
		}
		name, _ := url.PathUnescape(parts[2])
		c := snap.Lookup(name)
		if c == nil || c.IsView() {
			continue
		}
		id := ""
		if len(parts) == 5 {
			id, _ = url.PathUnescape(parts[4])
		}
		method := strings.ToUpper(br.Method)
		sub := r.Clone(r.Context())
		sub.Method, sub.URL, sub.Header = method, u, http.Header{}
		for k, v := range br.Headers {
			sub.Header.Set(k, v)
		}
		cl := s.caller(sub, br.Body)
		cl.Auth, cl.Request.Auth = authRecord(r), authRecord(r)
		creates := id == "" && (method == http.MethodPost || method == http.MethodPut)
		if creates && c.IsAuth() && !cl.IsSuperuser() && (cl.Key == nil || !cl.Key.Allows(c.ID, c.Name, auth.ActionCreate)) {
			if authCreates++; authCreates > maxBatchAuthCreates {
				msg := fmt.Sprintf("A batch may create at most %d auth records.", maxBatchAuthCreates)
				return nil, &Error{Status: http.StatusBadRequest, Message: msg,
					Data: schema.Errors{"requests": schema.NewFieldError("validation_too_many_auth_creates", msg)}}
			}
		}
		targets = append(targets, target{c, cl, method, id, br.Body})
	}
	// Counted first, hashed after: a refused batch costs no bcrypt.
	ctx := r.Context()
	for _, t := range targets {
		switch {
		case t.method == http.MethodPost && t.id == "", t.method == http.MethodPatch && t.id != "":
			ctx = s.records.HashAhead(ctx, t.cl, t.c, t.id, t.body)
		case t.method == http.MethodPut && t.id == "":
			ctx = s.records.HashAheadUpsert(ctx, t.cl, t.c, t.body)
		}
	}
	return ctx, nil
}
