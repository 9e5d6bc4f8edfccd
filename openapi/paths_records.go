package openapi

import (
	"strings"

	"github.com/plinthdev/plinth/schema"
)

// recordParameters are the query parameters of record reads, kept once
// in components.parameters: every collection's paths refer to them.
func recordParameters() obj {
	return obj{
		"page":      query("page", "integer", "Page number (1-based)."),
		"perPage":   query("perPage", "integer", "Records per page (at most 1000)."),
		"sort":      query("sort", "string", "Comma-separated fields, - for descending."),
		"filter":    query("filter", "string", "A filter expression."),
		"expand":    query("expand", "string", "Relations to expand, e.g. author,comments_via_post."),
		"fields":    query("fields", "string", "Fields to return, e.g. id,title,expand.author.name; some take modifiers such as :excerpt(200)."),
		"skipTotal": query("skipTotal", "boolean", "Skip counting the total (totalItems and totalPages are then -1)."),
	}
}

func paramRef(name string) obj { return obj{"$ref": "#/components/parameters/" + name} }

var (
	listParams = []any{paramRef("page"), paramRef("perPage"), paramRef("sort"), paramRef("filter"), paramRef("expand"), paramRef("fields"), paramRef("skipTotal")}
	readParams = []any{paramRef("expand"), paramRef("fields")}
)

// withParams is a path item with path-level parameters (none for a
// concrete collection path).
func withParams(params []any, ops obj) obj {
	if len(params) > 0 {
		ops["parameters"] = params
	}
	return ops
}

// addRecordPaths adds the record CRUD paths under base ("/api/collections/x"
// or the templated one), with tag and the named record, create and update
// schemas. A view has no writes.
func addRecordPaths(paths obj, base string, params []any, tag, rec, create, update string, view bool) {
	list := strings.TrimSuffix(rec, "Record") + "ListResult"
	coll := obj{"get": op(tag, "List records (list rule)", listParams, nil, withErrors(response("A page of records.", ref(list)), "400", "403", "404"))}
	if !view {
		coll["post"] = op(tag, "Create a record (create rule)", readParams, recordBody(ref(create)), withErrors(response("The created record.", ref(rec)), "400", "403", "404"))
	}
	paths[base+"/records"] = withParams(params, coll)
	one := obj{"get": op(tag, "View a record (view rule)", readParams, nil, withErrors(response("The record.", ref(rec)), "403", "404"))}
	if !view {
		one["patch"] = op(tag, "Update a record (update rule)", readParams, recordBody(ref(update)), withErrors(response("The updated record.", ref(rec)), "400", "403", "404"))
		one["delete"] = op(tag, "Delete a record (delete rule)", nil, nil, noContent("Deleted.", "400", "403", "404"))
	}
	paths[base+"/records/{id}"] = withParams(append(append([]any{}, params...), path("id")), one)
	// A guest's public read may come from the public cache (SQLite), with
	// an ETag that If-None-Match can name.
	for _, get := range []obj{coll["get"].(obj), one["get"].(obj)} {
		get["responses"].(obj)["304"] = obj{"description": "Not modified: the ETag named in If-None-Match is still current."}
	}
}

// addAuthPaths adds the operations of an auth collection that answer
// with a token and its record, under base; auth names the schema of their
// {token, record, meta} answers. They are added per collection, so that
// the record is described with its fields.
func addAuthPaths(paths obj, base string, params []any, tag, auth string) {
	tokenBody := func(props obj, required ...string) obj { return jsonBody(object(props, required...)) }
	authOK := func(desc string) obj { return withErrors(response(desc, ref(auth)), "400", "401", "403", "404") }
	one := func(method, summary string, body obj, responses obj) obj {
		return withParams(params, obj{method: op(tag, summary, readParams, body, responses)})
	}
	paths[base+"/auth-with-password"] = one("post", "Authenticate with identity and password",
		tokenBody(obj{"identity": str, "password": str, "identityField": str}, "identity", "password"), authOK("The token and record."))
	paths[base+"/auth-refresh"] = one("post", "Refresh the caller's token", nil, authOK("A new token."))
	paths[base+"/auth-with-otp"] = one("post", "Authenticate with a one-time password", tokenBody(obj{"otpId": str, "password": str}, "otpId", "password"), authOK("The token and record."))
	paths[base+"/auth-with-oauth2"] = one("post", "Authenticate with an OAuth2 provider's code",
		tokenBody(obj{"provider": str, "code": str, "codeVerifier": str, "redirectURL": str, "createData": anyObj}, "provider", "code"), authOK("The token, record and the provider's data in meta."))
	paths[base+"/auth-with-totp"] = one("post", "Second factor: a TOTP or recovery code", tokenBody(obj{"mfaId": obj{"type": "string", "description": "From the 401 of the first factor."}, "code": str}, "code"), authOK("The token and record."))
	paths[base+"/impersonate/{id}"] = withParams(append(append([]any{}, params...), path("id")), obj{"post": op(tag, "A token for another record (superusers)", readParams,
		obj{"required": false, "content": obj{"application/json": obj{"schema": object(obj{"duration": integer})}}}, authOK("The token and record."))})
}

// addAuthFlowPaths adds the other auth operations, whose answers do not
// depend on the collection: they are described once, templated.
func addAuthFlowPaths(paths obj, base string, params []any, tag string) {
	email := jsonBody(object(obj{"email": str}, "email"))
	tokenBody := func(props obj, required ...string) obj { return jsonBody(object(props, required...)) }
	paths[base+"/auth-methods"] = withParams(params, obj{"get": op(tag, "The collection's auth methods", nil, nil, withErrors(response("Auth methods.", object(obj{
		"password": object(obj{"enabled": boolean, "identityFields": arrayOf(str)}),
		"oauth2":   object(obj{"enabled": boolean, "providers": arrayOf(object(obj{"name": str, "displayName": str, "state": str, "authURL": str, "codeVerifier": str, "codeChallenge": str, "codeChallengeMethod": str}))}),
		"mfa":      object(obj{"enabled": boolean, "duration": integer}),
		"otp":      object(obj{"enabled": boolean, "duration": integer}),
	}, "password", "oauth2", "mfa", "otp")), "404"))})
	paths[base+"/request-verification"] = withParams(params, obj{"post": op(tag, "Email a verification link", nil, email, noContent("Sent if the account exists.", "400"))})
	paths[base+"/confirm-verification"] = withParams(params, obj{"post": op(tag, "Confirm an email address", nil, tokenBody(obj{"token": str}, "token"), noContent("Verified.", "400"))})
	paths[base+"/request-password-reset"] = withParams(params, obj{"post": op(tag, "Email a password reset link", nil, email, noContent("Sent if the account exists.", "400"))})
	paths[base+"/confirm-password-reset"] = withParams(params, obj{"post": op(tag, "Set a new password with a reset token", nil,
		tokenBody(obj{"token": str, "password": str, "passwordConfirm": str}, "token", "password", "passwordConfirm"), noContent("Password changed.", "400"))})
	paths[base+"/request-email-change"] = withParams(params, obj{"post": op(tag, "Email a link that changes the caller's address", nil,
		tokenBody(obj{"newEmail": str}, "newEmail"), noContent("Sent.", "400", "401", "403"))})
	paths[base+"/confirm-email-change"] = withParams(params, obj{"post": op(tag, "Change the address with an email-change token", nil,
		tokenBody(obj{"token": str, "password": str}, "token", "password"), noContent("Changed.", "400"))})
	paths[base+"/request-otp"] = withParams(params, obj{"post": op(tag, "Email a one-time password", nil, email,
		withErrors(response("The OTP id (also when the account does not exist).", object(obj{"otpId": str}, "otpId")), "400", "429"))})
	paths[base+"/totp/enroll"] = withParams(params, obj{"post": op(tag, "Start TOTP enrolment for the caller", nil, nil,
		withErrors(response("The secret, as an otpauth URI and a QR code.", object(obj{"secret": str, "uri": str, "qr": str}, "secret", "uri", "qr")), "400", "401", "403"))})
	paths[base+"/totp/confirm"] = withParams(params, obj{"post": op(tag, "Confirm TOTP enrolment with a first code", nil, tokenBody(obj{"code": str}, "code"),
		withErrors(response("One-time recovery codes.", object(obj{"recoveryCodes": arrayOf(str)}, "recoveryCodes")), "400", "401", "403"))})
	paths[base+"/totp"] = withParams(params, obj{"delete": op(tag, "Turn TOTP off for the caller, given a current code or the password", nil,
		tokenBody(obj{"code": str, "password": str}), noContent("Removed.", "400", "401", "403"))})
}

// recordSchemas are the JSON schemas of c's records as responses give
// them, and of create and update bodies. Hidden fields are left out:
// only superusers see them. No property is required in a response: the
// fields parameter can leave any out, and an auth record's email is
// omitted for callers who may not see it.
func recordSchemas(c *schema.Collection) (rec, create, update obj) {
	props := obj{"collectionId": str, "collectionName": str, "expand": anyObj}
	in := obj{}
	for _, f := range c.Fields {
		s := fieldSchema(f)
		if f.Type != "password" && !f.Hidden && f.Storage() != schema.StoreNone {
			props[f.Name] = s
		}
		writable := f.Type != "autodate" && (f.Name == "id" || !f.System || c.IsAuth() && (f.Name == "email" || f.Name == "emailVisibility" || f.Name == "verified" || f.Name == "password"))
		if writable && (!f.Hidden || f.Type == "password") {
			if f.Type == "password" {
				s = str
			}
			in[f.Name] = s
		}
	}
	if c.IsAuth() {
		in["passwordConfirm"] = str
	}
	rec = obj{"type": "object", "properties": props}
	create = obj{"type": "object", "properties": in}
	upd := obj{}
	for k, v := range in {
		if k != "id" {
			upd[k] = v
		}
	}
	update = obj{"type": "object", "properties": upd}
	return rec, create, update
}

// fieldSchema is the JSON schema of a field's value, from its storage
// class, so field types registered by applications are covered too.
func fieldSchema(f *schema.Field) obj {
	item := str
	if o, ok := f.Options.(*schema.SelectOptions); ok && len(o.Values) > 0 {
		vals := append([]string{}, o.Values...)
		if !f.Multiple() {
			vals = append(vals, "") // unset
		}
		item = obj{"type": "string", "enum": vals}
	}
	switch f.Storage() {
	case schema.StoreNumber:
		return obj{"type": "number"}
	case schema.StoreBool:
		return boolean
	case schema.StoreJSONArray:
		return arrayOf(item)
	case schema.StoreJSON:
		if f.Type == "geoPoint" {
			return object(obj{"lon": obj{"type": "number"}, "lat": obj{"type": "number"}})
		}
		return anyValue
	}
	return item
}
