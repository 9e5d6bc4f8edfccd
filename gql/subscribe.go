package gql

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/plinthdev/plinth/api"
)

// subscribe runs a subscription: one X_events field, fed by the realtime
// broker as a subscriber to "X/*" with the caller's auth, so the broker's
// Authorizer (the list rule, and the filter argument as the topic's
// filter option) decides which events reach it, as for SSE clients.
func (e *executor) subscribe(ctx context.Context, op *graphql.OperationContext, st *reqState) graphql.ResponseHandler {
	fail := func(status int, msg string) graphql.ResponseHandler {
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{Message: msg, Extensions: map[string]any{"status": status}}}})
	}
	fields := graphql.CollectFields(op, op.Operation.SelectionSet, []string{"Subscription"})
	if len(fields) != 1 {
		return fail(http.StatusBadRequest, "A subscription selects exactly one field.")
	}
	f := fields[0]
	rf := e.m.roots["Subscription."+f.Name]
	if rf == nil || rf.kind != rootEvents {
		return fail(http.StatusBadRequest, "Unknown subscription field.")
	}
	broker := e.h.broker
	if broker == nil {
		broker = e.h.srv.Broker()
	}
	if broker == nil {
		return fail(http.StatusServiceUnavailable, "Realtime is not available.")
	}
	if st.caller.Key != nil {
		return fail(http.StatusForbidden, "API keys cannot subscribe; use a record token.")
	}
	topic := rf.coll.c.Name + "/*"
	if flt, _ := f.ArgumentMap(op.Variables)["filter"].(string); flt != "" {
		opts, _ := json.Marshal(map[string]any{"query": map[string]string{"filter": flt}})
		topic += "?options=" + url.QueryEscape(string(opts))
	}
	sub, err := broker.SubscribeLocal(api.RealtimeAuth(st.caller.Auth), []string{topic})
	if err != nil {
		return fail(http.StatusBadRequest, "Failed to subscribe: "+err.Error())
	}
	stop := context.AfterFunc(ctx, sub.Close)
	ct := rf.coll
	return func(ctx context.Context) *graphql.Response {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				stop()
				return nil
			}
			out := &obj{}
			out.set(f.Alias, e.eventObject(op, ct, f, ev.Data))
			return &graphql.Response{Data: marshal(out)}
		case <-ctx.Done():
			sub.Close()
			return nil
		}
	}
}

// eventObject resolves an X_event selection on one event's data, the
// record as the Authorizer rendered it for the subscriber (hidden fields
// and emails as REST shows them). Relation fields are not loaded in
// events: they resolve to null (or an empty list).
func (e *executor) eventObject(op *graphql.OperationContext, ct *collType, f graphql.CollectedField, data json.RawMessage) any {
	var ev struct {
		Action string                     `json:"action"`
		Record map[string]json.RawMessage `json:"record"`
	}
	_ = json.Unmarshal(data, &ev)
	o := &obj{}
	for _, ef := range graphql.CollectFields(op, f.Selections, []string{ct.base + "_event"}) {
		switch ef.Name {
		case "__typename":
			o.set(ef.Alias, ct.base+"_event")
		case "action":
			o.set(ef.Alias, ev.Action)
		case "record":
			o.set(ef.Alias, recordFromJSON(op, ct, ef.Selections, ev.Record))
		}
	}
	return o
}

func recordFromJSON(op *graphql.OperationContext, ct *collType, sel ast.SelectionSet, rec map[string]json.RawMessage) any {
	o := &obj{}
	for _, f := range graphql.CollectFields(op, sel, []string{ct.name}) {
		if f.Name == "__typename" {
			o.set(f.Alias, ct.name)
			continue
		}
		of := ct.byName[f.Name]
		switch {
		case of == nil:
		case of.kind == fieldValue:
			if v, ok := rec[of.key]; ok {
				o.set(f.Alias, v)
			} else {
				o.set(f.Alias, nil)
			}
		case of.many:
			o.set(f.Alias, []any{})
		default:
			o.set(f.Alias, nil)
		}
	}
	return o
}
