// Package openapi describes the HTTP API as an OpenAPI 3.1 document,
// generated from the live schema: every collection gets its record paths
// and schemas from its fields, so the document follows the collections as
// they change.
//
// Every route of the REST mux has a path here (the api package's tests
// check that, and check every response they receive against the
// document). Routes that take a {collection} are described twice: once
// templated, for any collection (by name or id), and once per collection
// with the schemas of its fields; OpenAPI matches concrete paths first.
// The paths are split by area: paths_records.go (records and auth),
// paths_admin.go (superuser endpoints) and paths_system.go (the rest).
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

// recordBody is a record create or update body: JSON, or multipart when
// it uploads files.
func recordBody(s any) obj {
	return obj{"required": true, "content": obj{
		"application/json":    obj{"schema": s},
		"multipart/form-data": obj{"schema": obj{"type": "object"}},
	}}
}

func response(desc string, s any) obj {
	r := obj{"description": desc}
	if s != nil {
		r["content"] = obj{"application/json": obj{"schema": s}}
	}
	return r
}

// errorRef is the error response in PocketBase's {status, message, data}
// shape.
var errorRef = obj{"$ref": "#/components/responses/Error"}

// withErrors is the responses of an operation answering ok with 200. The
// codes listed are the errors worth naming for readers; `default` says
// that any other error is in the same shape (the middleware can answer
// 400, 401, 403, 413, 429 and 500 on any route).
func withErrors(ok obj, codes ...string) obj {
	out := obj{"200": ok, "default": errorRef}
	for _, c := range codes {
		out[c] = errorRef
	}
	return out
}

// noContent is the responses of an operation answering 204 on success.
func noContent(desc string, codes ...string) obj {
	out := obj{"204": obj{"description": desc}, "default": errorRef}
	for _, c := range codes {
		out[c] = errorRef
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

// object is a JSON object schema with the given properties, which may
// carry more (responses grow fields over time; clients ignore unknown
// ones).
func object(props obj, required ...string) obj {
	o := obj{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

func arrayOf(items any) obj { return obj{"type": "array", "items": items} }

var (
	str     = obj{"type": "string"}
	integer = obj{"type": "integer"}
	boolean = obj{"type": "boolean"}
	anyObj  = obj{"type": "object"}
	// nullableStr is a string or null (unset collection rules, times).
	nullableStr = obj{"type": []string{"string", "null"}}
	// anyValue is any JSON value, null included. It lists the types
	// rather than being the empty schema, which kin-openapi reads with
	// OpenAPI 3.0's rule that null needs nullable (it falls back to 3.0
	// validation for schemas that use no 2020-12 keyword).
	anyValue = obj{"type": []string{"null", "boolean", "number", "string", "array", "object"}}
)

// page is the envelope of a paginated list of items. totalItems and
// totalPages are -1 with skipTotal.
func page(items any) obj {
	return object(obj{"page": integer, "perPage": integer, "totalItems": integer, "totalPages": integer, "items": arrayOf(items)},
		"page", "perPage", "totalItems", "totalPages", "items")
}

// Document is the OpenAPI 3.1 document of the API for snap.
func Document(snap *store.Schema, version string) obj {
	paths := obj{}
	schemas := obj{
		"Error": object(obj{"status": integer, "message": str, "data": anyObj,
			"mfaId": obj{"type": "string", "description": "Set on the 401 that asks for a second authentication factor."}},
			"status", "message", "data"),
		"Record":     object(obj{"id": str, "collectionId": str, "collectionName": str, "expand": anyObj}),
		"ListResult": page(ref("Record")),
		"AuthResult": object(obj{"token": str, "record": ref("Record"), "meta": anyObj}, "token", "record"),
		"Collection": object(obj{
			"id": str, "name": str, "type": obj{"type": "string", "enum": []string{"base", "auth", "view"}},
			"system": boolean, "fields": arrayOf(anyObj), "indexes": arrayOf(str),
			"listRule": nullableStr, "viewRule": nullableStr, "createRule": nullableStr, "updateRule": nullableStr, "deleteRule": nullableStr,
			"authRule": nullableStr, "manageRule": nullableStr, "viewQuery": str,
		}, "id", "name", "type", "fields"),
		// A collection to create: the server makes the id when none is
		// given, and the fields may be left out (the defaults).
		"CollectionCreate": object(obj{
			"id": str, "name": str, "type": obj{"type": "string", "enum": []string{"base", "auth", "view"}},
			"fields": arrayOf(anyObj), "indexes": arrayOf(str),
			"listRule": nullableStr, "viewRule": nullableStr, "createRule": nullableStr, "updateRule": nullableStr, "deleteRule": nullableStr,
			"authRule": nullableStr, "manageRule": nullableStr, "viewQuery": str,
		}, "name"),
	}
	list := append([]*schema.Collection(nil), snap.Collections()...)
	sort.Slice(list, func(i, j int) bool { return list[i].Name < list[j].Name })
	// Any collection, by name or id.
	addRecordPaths(paths, "/api/collections/{collection}", []any{path("collection")}, "records", "Record", "Record", "Record", false)
	addAuthPaths(paths, "/api/collections/{collection}", []any{path("collection")}, "auth", "AuthResult")
	addAuthFlowPaths(paths, "/api/collections/{collection}", []any{path("collection")}, "auth")
	for _, c := range list {
		n := c.Name
		rec, create, update := recordSchemas(c)
		schemas[n+"Record"] = rec
		schemas[n+"ListResult"] = page(ref(n + "Record"))
		if !c.IsView() {
			schemas[n+"Create"] = create
			schemas[n+"Update"] = update
		}
		base := "/api/collections/" + n
		addRecordPaths(paths, base, nil, n, n+"Record", n+"Create", n+"Update", c.IsView())
		if c.IsAuth() {
			schemas[n+"AuthResult"] = object(obj{"token": str, "record": ref(n + "Record"), "meta": anyObj}, "token", "record")
			addAuthPaths(paths, base, nil, n, n+"AuthResult")
		}
	}
	addAdminPaths(paths, schemas)
	addSystemPaths(paths, schemas)
	return obj{
		"openapi": "3.1.0",
		"info": obj{"title": "Plinth API", "version": version,
			"description": "Generated from the live collections. Rules decide what each caller may do; the Authorization header carries a record token or an API key. " +
				"Errors are {status, message, data} objects."},
		"servers":  []any{obj{"url": "/"}},
		"paths":    paths,
		"security": []any{obj{}, obj{"token": []string{}}},
		"components": obj{
			"schemas":         schemas,
			"responses":       obj{"Error": response("An error in PocketBase's shape.", ref("Error"))},
			"parameters":      recordParameters(),
			"securitySchemes": obj{"token": obj{"type": "apiKey", "in": "header", "name": "Authorization"}},
		},
	}
}
