// Package openapi describes the HTTP API as an OpenAPI 3.1 document,
// generated from the live schema: every collection gets its record paths
// and schemas from its fields, so the document follows the collections as
// they change.
package openapi

import (
	"encoding/json"
	"net/http"
	"sort"

	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// Handler serves GET /api/openapi.json from st's current schema.
func Handler(st *store.Store, version string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := json.Marshal(Document(st.Schema(), version))
		if err != nil {
			http.Error(w, `{"status":500,"message":"Failed to encode the document.","data":{}}`, http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(data)
	})
}

type obj = map[string]any

func ref(name string) obj { return obj{"$ref": "#/components/schemas/" + name} }

func jsonBody(s any) obj {
	return obj{"required": true, "content": obj{"application/json": obj{"schema": s}}}
}

func response(desc string, s any) obj {
	r := obj{"description": desc}
	if s != nil {
		r["content"] = obj{"application/json": obj{"schema": s}}
	}
	return r
}

// errors are the error responses every operation may give.
func withErrors(ok obj, codes ...string) obj {
	out := obj{"200": ok}
	for _, c := range codes {
		out[c] = obj{"$ref": "#/components/responses/Error"}
	}
	return out
}

func op(tag, summary string, params []any, body obj, responses obj) obj {
	o := obj{"tags": []string{tag}, "summary": summary, "responses": responses}
	if len(params) > 0 {
		o["parameters"] = params
	}
	if body != nil {
		o["requestBody"] = body
	}
	return o
}

func query(name, typ, desc string) obj {
	return obj{"name": name, "in": "query", "required": false, "description": desc, "schema": obj{"type": typ}}
}

func path(name string) obj {
	return obj{"name": name, "in": "path", "required": true, "schema": obj{"type": "string"}}
}

// Document is the OpenAPI 3.1 document of the API for snap.
func Document(snap *store.Schema, version string) obj {
	paths := obj{}
	schemas := obj{
		"Error": obj{"type": "object", "required": []string{"status", "message", "data"}, "properties": obj{
			"status": obj{"type": "integer"}, "message": obj{"type": "string"}, "data": obj{"type": "object"},
		}},
		"AuthResult": obj{"type": "object", "required": []string{"token", "record"}, "properties": obj{
			"token": obj{"type": "string"}, "record": obj{"type": "object"}, "meta": obj{"type": "object"},
		}},
		"Collection": obj{"type": "object", "required": []string{"id", "name", "type", "fields"}, "properties": obj{
			"id": obj{"type": "string"}, "name": obj{"type": "string"}, "type": obj{"type": "string", "enum": []string{"base", "auth", "view"}},
			"fields": obj{"type": "array", "items": obj{"type": "object"}},
		}},
	}
	listParams := []any{
		query("page", "integer", "Page number (1-based)."),
		query("perPage", "integer", "Records per page (at most 1000)."),
		query("sort", "string", "Comma-separated fields, - for descending."),
		query("filter", "string", "A filter expression."),
		query("expand", "string", "Relations to expand, e.g. author,comments_via_post."),
		query("fields", "string", "Fields to return."),
		query("skipTotal", "boolean", "Skip counting the total."),
	}
	readParams := []any{query("expand", "string", "Relations to expand."), query("fields", "string", "Fields to return.")}
	list := append([]*schema.Collection(nil), snap.Collections()...)
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	for _, c := range list {
		n := c.Name
		rec, create, update := recordSchemas(c)
		schemas[n+"Record"] = rec
		schemas[n+"ListResult"] = obj{"type": "object", "required": []string{"page", "perPage", "totalItems", "totalPages", "items"}, "properties": obj{
			"page": obj{"type": "integer"}, "perPage": obj{"type": "integer"}, "totalItems": obj{"type": "integer"}, "totalPages": obj{"type": "integer"},
			"items": obj{"type": "array", "items": ref(n + "Record")},
		}}
		base := "/api/collections/" + n
		p := obj{"get": op(n, "List "+n+" records (list rule)", listParams, nil, withErrors(response("A page of records.", ref(n+"ListResult")), "400", "403"))}
		if !c.IsView() {
			schemas[n+"Create"] = create
			schemas[n+"Update"] = update
			p["post"] = op(n, "Create a "+n+" record (create rule)", readParams, jsonBody(ref(n+"Create")), withErrors(response("The created record.", ref(n+"Record")), "400", "403"))
		}
		paths[base+"/records"] = p
		one := obj{"parameters": []any{path("id")}, "get": op(n, "View a "+n+" record (view rule)", readParams, nil, withErrors(response("The record.", ref(n+"Record")), "403", "404"))}
		if !c.IsView() {
			one["patch"] = op(n, "Update a "+n+" record (update rule)", readParams, jsonBody(ref(n+"Update")), withErrors(response("The updated record.", ref(n+"Record")), "400", "403", "404"))
			one["delete"] = op(n, "Delete a "+n+" record (delete rule)", nil, nil, obj{"204": obj{"description": "Deleted."}, "400": obj{"$ref": "#/components/responses/Error"}, "404": obj{"$ref": "#/components/responses/Error"}})
		}
		paths[base+"/records/{id}"] = one
		if c.IsAuth() {
			paths[base+"/auth-with-password"] = obj{"post": op(n, "Authenticate with identity and password", nil,
				jsonBody(obj{"type": "object", "required": []string{"identity", "password"}, "properties": obj{"identity": obj{"type": "string"}, "password": obj{"type": "string"}}}),
				withErrors(response("The token and record.", ref("AuthResult")), "400", "401"))}
			paths[base+"/auth-refresh"] = obj{"post": op(n, "Refresh the caller's token", nil, nil, withErrors(response("A new token.", ref("AuthResult")), "401", "403"))}
			paths[base+"/auth-methods"] = obj{"get": op(n, "The collection's auth methods", nil, nil, withErrors(response("Auth methods.", obj{"type": "object"}), "404"))}
			paths[base+"/request-password-reset"] = obj{"post": op(n, "Email a password reset link", nil,
				jsonBody(obj{"type": "object", "required": []string{"email"}, "properties": obj{"email": obj{"type": "string"}}}), obj{"204": obj{"description": "Sent if the account exists."}})}
			paths[base+"/request-verification"] = obj{"post": op(n, "Email a verification link", nil,
				jsonBody(obj{"type": "object", "required": []string{"email"}, "properties": obj{"email": obj{"type": "string"}}}), obj{"204": obj{"description": "Sent if the account exists."}})}
			paths[base+"/request-otp"] = obj{"post": op(n, "Email a one-time password", nil,
				jsonBody(obj{"type": "object", "required": []string{"email"}, "properties": obj{"email": obj{"type": "string"}}}), withErrors(response("The OTP id.", obj{"type": "object", "properties": obj{"otpId": obj{"type": "string"}}}), "400"))}
		}
	}
	paths["/api/collections"] = obj{
		"get":  op("collections", "List collections (superusers)", nil, nil, withErrors(response("Collections.", obj{"type": "object"}), "401", "403")),
		"post": op("collections", "Create a collection (superusers)", nil, jsonBody(ref("Collection")), withErrors(response("The collection.", ref("Collection")), "400", "403")),
	}
	paths["/api/collections/{collection}"] = obj{"parameters": []any{path("collection")},
		"get":    op("collections", "View a collection (superusers)", nil, nil, withErrors(response("The collection.", ref("Collection")), "403", "404")),
		"patch":  op("collections", "Update a collection (superusers)", nil, jsonBody(obj{"type": "object"}), withErrors(response("The collection.", ref("Collection")), "400", "403", "404")),
		"delete": op("collections", "Delete a collection (superusers)", nil, nil, obj{"204": obj{"description": "Deleted."}, "400": obj{"$ref": "#/components/responses/Error"}}),
	}
	paths["/api/batch"] = obj{"post": op("batch", "Run creates, updates, upserts and deletes in one transaction", nil,
		jsonBody(obj{"type": "object", "required": []string{"requests"}, "properties": obj{"requests": obj{"type": "array", "items": obj{"type": "object", "required": []string{"method", "url"},
			"properties": obj{"method": obj{"type": "string"}, "url": obj{"type": "string"}, "body": obj{"type": "object"}}}}}}),
		withErrors(response("One result per request.", obj{"type": "array", "items": obj{"type": "object", "properties": obj{"status": obj{"type": "integer"}, "body": obj{}}}}), "400", "403"))}
	paths["/api/files/{collection}/{recordId}/{filename}"] = obj{"get": op("files", "Download a record's file", []any{path("collection"), path("recordId"), path("filename"),
		query("thumb", "string", "Thumbnail size, e.g. 100x100."), query("token", "string", "A file token for protected files.")}, nil,
		obj{"200": obj{"description": "The file.", "content": obj{"application/octet-stream": obj{"schema": obj{"type": "string", "contentMediaType": "application/octet-stream"}}}}, "404": obj{"$ref": "#/components/responses/Error"}})}
	paths["/api/files/token"] = obj{"post": op("files", "A short-lived token for protected files", nil, nil, withErrors(response("The token.", obj{"type": "object", "properties": obj{"token": obj{"type": "string"}}}), "401"))}
	paths["/api/realtime"] = obj{
		"get":  op("realtime", "Open the server-sent event stream", nil, nil, obj{"200": obj{"description": "An SSE stream; the first event, PB_CONNECT, carries the clientId.", "content": obj{"text/event-stream": obj{"schema": obj{"type": "string"}}}}}),
		"post": op("realtime", "Set the client's subscriptions", nil, jsonBody(obj{"type": "object", "required": []string{"clientId"}, "properties": obj{"clientId": obj{"type": "string"}, "subscriptions": obj{"type": "array", "items": obj{"type": "string"}}}}), obj{"204": obj{"description": "Subscribed."}, "400": obj{"$ref": "#/components/responses/Error"}, "404": obj{"$ref": "#/components/responses/Error"}}),
	}
	paths["/api/settings"] = obj{
		"get":   op("settings", "The settings (superusers)", nil, nil, withErrors(response("Settings.", obj{"type": "object"}), "401", "403")),
		"patch": op("settings", "Change the settings (superusers)", nil, jsonBody(obj{"type": "object"}), withErrors(response("Settings.", obj{"type": "object"}), "400", "403")),
	}
	paths["/api/health"] = obj{"get": op("system", "Health check", nil, nil, obj{"200": response("Healthy.", obj{"type": "object"})})}
	gqlBody := obj{"type": "object", "required": []string{"query"}, "properties": obj{"query": obj{"type": "string"}, "variables": obj{"type": "object"}, "operationName": obj{"type": "string"}}}
	gqlResp := obj{"type": "object", "properties": obj{"data": obj{}, "errors": obj{"type": "array", "items": obj{"type": "object"}}, "extensions": obj{"type": "object"}}}
	paths["/api/graphql"] = obj{
		"post": op("graphql", "Run a GraphQL operation (see docs/graphql.md)", nil, jsonBody(gqlBody), obj{"200": response("The result.", gqlResp), "400": response("A query that does not parse or validate.", gqlResp)}),
		"get":  op("graphql", "Run a GraphQL query", []any{obj{"name": "query", "in": "query", "required": true, "schema": obj{"type": "string"}}}, nil, obj{"200": response("The result.", gqlResp), "400": response("A query that does not parse or validate.", gqlResp)}),
	}
	return obj{
		"openapi": "3.1.0",
		"info": obj{"title": "Plinth API", "version": version,
			"description": "Generated from the live collections. Rules decide what each caller may do; the Authorization header carries a record token or an API key."},
		"servers":  []any{obj{"url": "/"}},
		"paths":    paths,
		"security": []any{obj{}, obj{"token": []string{}}},
		"components": obj{
			"schemas":         schemas,
			"responses":       obj{"Error": response("An error in PocketBase's shape.", ref("Error"))},
			"securitySchemes": obj{"token": obj{"type": "apiKey", "in": "header", "name": "Authorization"}},
		},
	}
}

// recordSchemas are the JSON schemas of c's records as responses give
// them, and of create and update bodies.
func recordSchemas(c *schema.Collection) (rec, create, update obj) {
	props := obj{"collectionId": obj{"type": "string"}, "collectionName": obj{"type": "string"}, "expand": obj{"type": "object"}}
	in := obj{}
	required := []string{"collectionId", "collectionName", "id"}
	for _, f := range c.Fields {
		s := fieldSchema(f)
		if f.Type != "password" && !f.Hidden && f.Storage() != schema.StoreNone {
			props[f.Name] = s
		}
		writable := f.Type != "autodate" && (f.Name == "id" || !f.System || c.IsAuth() && (f.Name == "email" || f.Name == "emailVisibility" || f.Name == "verified" || f.Name == "password"))
		if writable && (!f.Hidden || f.Type == "password") {
			if f.Type == "password" {
				s = obj{"type": "string"}
			}
			in[f.Name] = s
		}
	}
	if c.IsAuth() {
		in["passwordConfirm"] = obj{"type": "string"}
	}
	rec = obj{"type": "object", "required": required, "properties": props}
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

func fieldSchema(f *schema.Field) obj {
	many := f.Multiple()
	item := obj{"type": "string"}
	switch f.Type {
	case "number":
		return obj{"type": "number"}
	case "bool":
		return obj{"type": "boolean"}
	case "json":
		return obj{}
	case "geoPoint":
		return obj{"type": "object", "properties": obj{"lon": obj{"type": "number"}, "lat": obj{"type": "number"}}}
	case "select":
		if o, ok := f.Options.(*schema.SelectOptions); ok && len(o.Values) > 0 {
			vals := append([]string{}, o.Values...)
			if !many {
				vals = append(vals, "")
			}
			item = obj{"type": "string", "enum": vals}
		}
	}
	if many {
		return obj{"type": "array", "items": item}
	}
	return item
}
