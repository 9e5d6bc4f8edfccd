package record

import (
	"encoding/json"

	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/schema"
)

// withBody returns the caller that a write of body is checked as: when the
// caller carries no @request.body (a Go caller, such as App.Caller of a
// custom route, which has not read the request as a record body), rules
// read body as @request.body, as they do for the REST API, which passes
// the body it decoded. Otherwise a rule such as
// "@request.body.owner = @request.auth.id" would refuse every Go write
// made on a user's behalf. The caller itself is left unchanged.
func withBody(caller *Caller, body map[string]any) *Caller {
	if caller == nil || body == nil || (caller.Request != nil && caller.Request.Body != nil) {
		return caller
	}
	c := *caller
	info := filter.RequestInfo{Auth: caller.Auth, Context: "default"}
	if caller.Request != nil {
		info = *caller.Request
	}
	info.Body = body
	c.Request = &info
	return &c
}

// withResolvedModifiers returns the caller whose @request.body holds, in
// place of each modifier key ("tags+", "+tags", "views-"), the field's
// value once the body is applied to base (the stored record, or an empty
// one on create), as PocketBase's rules see it. Rules are written against
// field names: without this, "tags+" would slip past a rule such as
// "@request.body.tags:isset = false" or "@request.body.owner = …". Bodies
// without modifiers (nearly all) cost one scan of their keys.
func withResolvedModifiers(caller *Caller, base *schema.Record) *Caller {
	if caller == nil || caller.Request == nil || !hasModifier(caller.Request.Body) {
		return caller
	}
	body := caller.Request.Body
	r := base.Clone()
	// Errors are the real Apply's to report; here only the values count.
	schema.Apply(r, body, base.ID() == "")
	// Plain keys first, then every field a modifier names takes its
	// applied value: with {"n": 5, "n+": 7} the rule must see 12, what
	// the record gets, whatever order the map yields its keys in.
	resolved := make(map[string]any, len(body))
	for k, v := range body {
		if _, op := schema.SplitModifier(k); op == "" {
			resolved[k] = v
		}
	}
	for k := range body {
		if name, op := schema.SplitModifier(k); op != "" && r.Collection.Field(name) != nil {
			resolved[name] = bodyValue(r.Get(name))
		}
	}
	c := *caller
	info := *caller.Request
	info.Body = resolved
	c.Request = &info
	return &c
}

func hasModifier(body map[string]any) bool {
	for k := range body {
		if _, op := schema.SplitModifier(k); op != "" {
			return true
		}
	}
	return false
}

// bodyValue turns a record value into the shape a decoded JSON body has
// ([]any, float64, string, bool), which is what rules expect of
// @request.body.
func bodyValue(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return nil
	}
	return out
}
