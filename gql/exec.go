package gql

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plinthdev/plinth/api"
	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/authflow"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// reqState is what one GraphQL request carries: who calls, and the count
// of record-service reads it made (reported in the response's extensions
// so that the cost of a nested query can be seen, and tested).
type reqState struct {
	r      *http.Request
	caller *record.Caller
	reads  atomic.Int64
}

type stateKey struct{}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey{}).(*reqState)
	return st
}

// executor is the graphql.ExecutableSchema of one model.
type executor struct {
	h *Handler
	m *model
}

// Schema is the model's GraphQL schema.
func (e *executor) Schema() *ast.Schema { return e.m.schema }

// Complexity weighs list fields by how many records they may return: a
// list by its limit (or the default page size), a back-relation or a
// multiple relation by a fixed fan-out.
func (e *executor) Complexity(_ context.Context, typeName, field string, child int, args map[string]any) (int, bool) {
	if rf := e.m.roots[typeName+"."+field]; rf != nil && rf.kind == rootList {
		n, _ := intArg(args["limit"])
		if n <= 0 {
			n = int64(e.h.limits().DefaultLimit)
		}
		return 1 + child*int(min(n, int64(e.h.limits().MaxLimit))), true
	}
	if ct := e.m.objects[typeName]; ct != nil {
		if f := ct.byName[field]; f != nil && f.many {
			return 1 + child*fanOut, true
		}
	}
	return 0, false
}

// fanOut is the complexity weight of a to-many relation's records.
const fanOut = 10

// Exec runs the operation of ctx's operation context.
func (e *executor) Exec(ctx context.Context) graphql.ResponseHandler {
	op := graphql.GetOperationContext(ctx)
	st := stateFrom(ctx)
	if st == nil {
		return graphql.OneShot(graphql.ErrorResponse(ctx, "request state missing"))
	}
	if op.Operation.Operation == ast.Subscription {
		return e.subscribe(ctx, op, st)
	}
	done := false
	return func(ctx context.Context) *graphql.Response {
		if done {
			return nil
		}
		done = true
		x := &run{e: e, op: op, st: st, ctx: ctx}
		typ := "Query"
		if op.Operation.Operation == ast.Mutation {
			typ = "Mutation"
		}
		data := x.root(typ, op.Operation.SelectionSet)
		graphql.RegisterExtension(ctx, "reads", st.reads.Load())
		return &graphql.Response{Data: marshal(data)}
	}
}

func marshal(v any) json.RawMessage {
	if v == nil {
		return json.RawMessage("null")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}

// obj is a JSON object that keeps its keys in selection order.
type obj struct {
	keys []string
	vals []any
}

func (o *obj) set(k string, v any) { o.keys = append(o.keys, k); o.vals = append(o.vals, v) }

// MarshalJSON writes the keys in order.
func (o *obj) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range o.keys {
		if i > 0 {
			b.WriteByte(',')
		}
		kb, _ := json.Marshal(k)
		b.Write(kb)
		b.WriteByte(':')
		vb, err := json.Marshal(o.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(vb)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// run is one operation's execution.
type run struct {
	e   *executor
	op  *graphql.OperationContext
	st  *reqState
	ctx context.Context
}

// fail reports err at path; ok is false so that the caller nulls the
// field (and its parent when the field is non-null).
func (x *run) fail(path ast.Path, err error) {
	var ge *gqlerror.Error
	if !errors.As(err, &ge) {
		ae := api.ErrorOf(err)
		msg := ae.Message
		if ae.Status >= 500 {
			x.e.h.log.ErrorContext(x.ctx, "graphql field failed", "path", path.String(), "err", err)
		}
		ext := map[string]any{"status": ae.Status}
		if ae.Data != nil {
			ext["data"] = ae.Data
		}
		if ae.MFAID != "" {
			ext["mfaId"] = ae.MFAID
		}
		ge = &gqlerror.Error{Message: msg, Extensions: ext}
	}
	ge.Path = path
	graphql.AddError(x.ctx, ge)
}

func badInput(msg string) error {
	return &api.Error{Status: http.StatusBadRequest, Message: msg}
}

func nonNull(t *ast.Type) bool { return t != nil && t.NonNull }

func (x *run) fields(typ string, sel ast.SelectionSet) []graphql.CollectedField {
	return graphql.CollectFields(x.op, sel, []string{typ})
}

// root resolves the root selection; nil when a non-null root field failed.
func (x *run) root(typ string, sel ast.SelectionSet) any {
	out := &obj{}
	for _, f := range x.fields(typ, sel) {
		path := ast.Path{ast.PathName(f.Alias)}
		v, ok := x.rootField(typ, f, path)
		if !ok && nonNull(f.Definition.Type) {
			return nil
		}
		out.set(f.Alias, v)
	}
	return out
}

// caller is the request's caller with @request.method set as the REST
// call of the same action would have it.
func (x *run) caller(method string, body map[string]any) *record.Caller {
	cl := *x.st.caller
	if cl.Request != nil {
		info := *cl.Request
		info.Method = method
		info.Body = body
		cl.Request = &info
	}
	return &cl
}

func (x *run) rootField(typ string, f graphql.CollectedField, path ast.Path) (any, bool) {
	switch f.Name {
	case "__typename":
		return typ, true
	case "__schema", "__type":
		if x.op.DisableIntrospection {
			x.fail(path, &gqlerror.Error{Message: "introspection is disabled", Extensions: map[string]any{"status": http.StatusForbidden}})
			return nil, false
		}
		return x.introspect(f, path)
	}
	rf := x.e.m.roots[typ+"."+f.Name]
	if rf == nil {
		x.fail(path, badInput("unknown field "+f.Name))
		return nil, false
	}
	args := f.ArgumentMap(x.op.Variables)
	var v any
	var err error
	switch rf.kind {
	case rootList:
		v, err = x.list(rf.coll, args, f, path)
	case rootByPK:
		v, err = x.byPK(rf.coll, args, f, path)
	case rootAggregate:
		v, err = x.aggregate(rf.coll, args, f)
	case rootInsert, rootUpdate, rootDelete:
		v, err = x.write(rf, args, f, path)
	case rootAuthPassword, rootAuthRefresh:
		v, err = x.authFlow(rf.kind, args, f)
	default:
		err = badInput("subscriptions need a subscription operation")
	}
	if err != nil {
		x.fail(path, err)
		return nil, false
	}
	if v == nil && nonNull(f.Definition.Type) {
		return nil, false
	}
	return v, true
}

// filterArg combines the filter and where arguments into one client filter.
func (x *run) filterArg(ct *collType, args map[string]any) (string, error) {
	var parts []string
	if s, _ := args["filter"].(string); strings.TrimSpace(s) != "" {
		parts = append(parts, "("+s+")")
	}
	if w, ok := args["where"].(map[string]any); ok {
		s, err := whereToFilter(ct, w)
		if err != nil {
			return "", badInput("Invalid where: " + err.Error())
		}
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, " && "), nil
}

func intArg(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n), true
		}
	case json.Number:
		i, err := n.Int64()
		return i, err == nil
	}
	return 0, false
}

func (x *run) list(ct *collType, args map[string]any, f graphql.CollectedField, path ast.Path) (any, error) {
	lim := x.e.h.limits()
	limit, offset := int64(lim.DefaultLimit), int64(0)
	if v, ok := args["limit"]; ok && v != nil {
		n, ok := intArg(v)
		if !ok || n < 0 {
			return nil, badInput("Invalid limit: it must be a non-negative integer.")
		}
		if n > int64(lim.MaxLimit) {
			return nil, badInput(fmt.Sprintf("Invalid limit: at most %d records per query.", lim.MaxLimit))
		}
		limit = n
	}
	if v, ok := args["offset"]; ok && v != nil {
		n, ok := intArg(v)
		if !ok || n < 0 || n > math.MaxInt32 {
			return nil, badInput("Invalid offset: it must be a non-negative integer.")
		}
		offset = n
	}
	if limit == 0 {
		return []any{}, nil
	}
	filterText, err := x.filterArg(ct, args)
	if err != nil {
		return nil, err
	}
	sortText := ""
	if ob, ok := args["order_by"]; ok && ob != nil {
		if sortText, err = orderToSort(ct, asList(ob)); err != nil {
			return nil, err
		}
	}
	cl := x.caller(http.MethodGet, nil)
	x.st.reads.Add(1)
	page, err := x.e.h.records.List(x.ctx, cl, ct.c, record.ListParams{
		Filter: filterText, Sort: sortText, Page: 1, PerPage: int(limit), Offset: int(offset), SkipTotal: true,
	})
	if err != nil {
		return nil, err
	}
	return x.records(ct, cl, page.Items, f.Selections, path), nil
}

func asList(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	if v == nil {
		return nil
	}
	return []any{v}
}

func (x *run) byPK(ct *collType, args map[string]any, f graphql.CollectedField, path ast.Path) (any, error) {
	id, _ := args["id"].(string)
	cl := x.caller(http.MethodGet, nil)
	x.st.reads.Add(1)
	rec, err := x.e.h.records.View(x.ctx, cl, ct.c, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return x.records(ct, cl, []*schema.Record{rec}, f.Selections, path)[0], nil
}

func (x *run) aggregate(ct *collType, args map[string]any, f graphql.CollectedField) (any, error) {
	filterText, err := x.filterArg(ct, args)
	if err != nil {
		return nil, err
	}
	count := -1
	out := &obj{}
	for _, af := range x.fields(ct.base+"_aggregate", f.Selections) {
		switch af.Name {
		case "__typename":
			out.set(af.Alias, ct.base+"_aggregate")
		case "aggregate":
			inner := &obj{}
			for _, cf := range x.fields(ct.base+"_aggregate_fields", af.Selections) {
				switch cf.Name {
				case "__typename":
					inner.set(cf.Alias, ct.base+"_aggregate_fields")
				case "count":
					if count < 0 {
						cl := x.caller(http.MethodGet, nil)
						x.st.reads.Add(1)
						page, err := x.e.h.records.List(x.ctx, cl, ct.c, record.ListParams{Filter: filterText, Page: 1, PerPage: 1})
						if err != nil {
							return nil, err
						}
						count = page.TotalItems
					}
					inner.set(cf.Alias, count)
				}
			}
			out.set(af.Alias, inner)
		}
	}
	return out, nil
}

// records resolves the selection on records of ct. Relations and
// back-relations selected are loaded for all the records at once, one
// expand of the record service per relation and level, so a nested query
// costs a number of reads bounded by its shape, not by its rows.
func (x *run) records(ct *collType, cl *record.Caller, recs []*schema.Record, sel ast.SelectionSet, path ast.Path) []any {
	out := make([]any, len(recs))
	if len(recs) == 0 {
		return out
	}
	fields := x.fields(ct.name, sel)
	var keys []string
	expanded := map[string]bool{}
	children := map[string]map[*schema.Record]any{}
	for _, f := range fields {
		of := ct.byName[f.Name]
		if of == nil {
			continue
		}
		if of.kind == fieldValue {
			keys = append(keys, of.key)
			continue
		}
		if !expanded[of.expand] {
			expanded[of.expand] = true
			for _, r := range recs {
				delete(r.Expand, of.expand)
			}
			x.st.reads.Add(1)
			if err := x.e.h.records.Expand(x.ctx, cl, ct.c, recs, of.expand); err != nil {
				x.fail(append(path, ast.PathName(f.Alias)), err)
				continue
			}
		}
		// Every related record once, resolved in one batch.
		var related []*schema.Record
		seen := map[*schema.Record]bool{}
		for _, r := range recs {
			switch v := r.Expand[of.expand].(type) {
			case *schema.Record:
				if !seen[v] {
					seen[v] = true
					related = append(related, v)
				}
			case []*schema.Record:
				for _, y := range v {
					if !seen[y] {
						seen[y] = true
						related = append(related, y)
					}
				}
			}
		}
		target := x.e.m.byCollection(of.target.ID)
		resolved := x.records(target, cl, related, f.Selections, append(path, ast.PathName(f.Alias)))
		m := make(map[*schema.Record]any, len(related))
		for i, r := range related {
			m[r] = resolved[i]
		}
		children[f.Alias] = m
	}
	var eo schema.EncodeOptions
	if len(keys) > 0 {
		p, err := schema.ParseProjection(strings.Join(keys, ","))
		if err == nil {
			eo = api.EncodeOptions(cl.Auth)
			eo.Projection = p
		}
	}
	for i, r := range recs {
		var vals map[string]json.RawMessage
		if len(keys) > 0 {
			_ = json.Unmarshal(r.AppendJSON(nil, eo), &vals)
		}
		o := &obj{}
		ok := true
		for _, f := range fields {
			if f.Name == "__typename" {
				o.set(f.Alias, ct.name)
				continue
			}
			of := ct.byName[f.Name]
			if of == nil {
				continue
			}
			switch {
			case of.kind == fieldValue:
				v, has := vals[of.key]
				if !has || string(v) == "null" {
					if nonNull(f.Definition.Type) {
						ok = false
					}
					o.set(f.Alias, nil)
					continue
				}
				o.set(f.Alias, v)
			case of.many:
				list, _ := r.Expand[of.expand].([]*schema.Record)
				items := make([]any, 0, len(list))
				for _, y := range list {
					if v := children[f.Alias][y]; v != nil {
						items = append(items, v)
					}
				}
				o.set(f.Alias, items)
			default:
				y, _ := r.Expand[of.expand].(*schema.Record)
				var v any
				if y != nil {
					v = children[f.Alias][y]
				}
				o.set(f.Alias, v)
			}
		}
		if ok {
			out[i] = o
		}
	}
	return out
}

// write runs an insert, update or delete through the record service in
// one transaction, as the REST handlers do.
func (x *run) write(rf *rootField, args map[string]any, f graphql.CollectedField, path ast.Path) (any, error) {
	ct := rf.coll
	c := ct.c
	action, method := auth.ActionCreate, http.MethodPost
	var id string
	var input map[string]any
	switch rf.kind {
	case rootInsert:
		input, _ = args["object"].(map[string]any)
	case rootUpdate:
		action, method = auth.ActionUpdate, http.MethodPatch
		pk, _ := args["pk_columns"].(map[string]any)
		id, _ = pk["id"].(string)
		input, _ = args["_set"].(map[string]any)
	case rootDelete:
		action, method = auth.ActionDelete, http.MethodDelete
		id, _ = args["id"].(string)
	}
	if err := record.MayAttempt(x.st.caller, c, action); err != nil {
		return nil, err
	}
	var body map[string]any
	if rf.kind != rootDelete {
		body = map[string]any{}
		for name, v := range input {
			key, ok := ct.input[name]
			if !ok {
				continue
			}
			body[key] = plain(v)
		}
	}
	cl := x.caller(method, body)
	ctx := x.ctx
	if body != nil {
		ctx = x.e.h.records.HashAhead(ctx, cl, c, id, body)
	}
	var rec *schema.Record
	err := x.e.h.srv.WriteTx(ctx, func(ctx context.Context, tx *store.Tx) error {
		var err error
		switch rf.kind {
		case rootInsert:
			rec, err = x.e.h.records.Create(ctx, tx, cl, c, body)
		case rootUpdate:
			rec, err = x.e.h.records.Update(ctx, tx, cl, c, id, body)
		default:
			rec, err = x.e.h.records.Delete(ctx, tx, cl, c, id)
		}
		return err
	})
	if errors.Is(err, store.ErrNotFound) && rf.kind != rootInsert {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return x.records(ct, x.caller(http.MethodGet, nil), []*schema.Record{rec}, f.Selections, path)[0], nil
}

// plain turns GraphQL argument values into what a decoded JSON body holds
// (numbers as float64), which record validation expects.
func plain(v any) any {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case int:
		return float64(x)
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return x.String()
		}
		return f
	case []any:
		out := make([]any, len(x))
		for i, y := range x {
			out[i] = plain(y)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, y := range x {
			out[k] = plain(y)
		}
		return out
	}
	return v
}

// authFlow runs auth_with_password or auth_refresh through the auth flow
// service.
func (x *run) authFlow(kind rootKind, args map[string]any, f graphql.CollectedField) (any, error) {
	snap := x.e.m.snap
	r := x.st.r
	var res *authflow.Result
	var err error
	name, _ := args["collection"].(string)
	if kind == rootAuthPassword {
		c := snap.Lookup(name)
		if c == nil || !c.IsAuth() {
			return nil, &api.Error{Status: http.StatusNotFound, Message: "Missing or invalid auth collection context."}
		}
		identity, _ := args["identity"].(string)
		password, _ := args["password"].(string)
		mfaID, _ := args["mfaId"].(string)
		body := map[string]any{"identity": identity, "password": password}
		res, err = x.e.h.auth.PasswordLogin(x.ctx, x.caller(http.MethodPost, body), c, identity, password,
			authflow.Client{IP: x.e.h.srv.ClientIP(r), MFAID: strings.TrimSpace(mfaID)})
	} else {
		var c *schema.Collection
		if name != "" {
			c = snap.Lookup(name)
		} else if x.st.caller.Auth != nil {
			c = x.st.caller.Auth.Collection
		}
		if c == nil || !c.IsAuth() {
			return nil, &api.Error{Status: http.StatusNotFound, Message: "Missing or invalid auth collection context."}
		}
		res, err = x.e.h.auth.Refresh(x.ctx, x.caller(http.MethodPost, nil), c, api.AuthClaims(r), x.e.h.srv.ClientIP(r))
	}
	if err != nil {
		return nil, err
	}
	out := &obj{}
	for _, af := range x.fields("auth_result", f.Selections) {
		switch af.Name {
		case "__typename":
			out.set(af.Alias, "auth_result")
		case "token":
			out.set(af.Alias, res.Token)
		case "record":
			out.set(af.Alias, json.RawMessage(res.Record.AppendJSON(nil, api.EncodeOptions(res.Record))))
		case "meta":
			if len(res.Meta) == 0 {
				out.set(af.Alias, nil)
			} else {
				out.set(af.Alias, res.Meta)
			}
		}
	}
	return out, nil
}

// byCollection returns the record type of the collection with id.
func (m *model) byCollection(id string) *collType { return m.byID[id] }
