package openapi

// addSystemPaths adds the endpoints that are neither records nor
// superuser administration: health, files, realtime, batch, GraphQL, the
// OAuth2 redirect, the installer and this document.
func addSystemPaths(paths obj, schemas obj) {
	schemas["Health"] = object(obj{"code": integer, "message": str,
		"data": object(obj{"version": str, "database": str, "canBackup": boolean})}, "code", "message", "data")
	health := op("system", "Health check (the database is pinged; superusers also get the version)", nil, nil,
		obj{"200": response("Healthy.", ref("Health")), "default": errorRef, "503": errorRef})
	paths["/api/health"] = obj{"get": health, "head": health}

	file := op("files", "Download a record's file", []any{
		query("thumb", "string", "Thumbnail size, e.g. 100x100."), query("token", "string", "A file token for protected files."), query("download", "boolean", "Serve as an attachment.")}, nil,
		obj{
			// The type is the one sniffed at upload, whatever it is.
			"200":     obj{"description": "The file.", "content": obj{"*/*": obj{"schema": obj{"type": "string", "contentMediaType": "application/octet-stream"}}}},
			"206":     obj{"description": "A range of the file.", "content": obj{"*/*": obj{"schema": str}}},
			"304":     obj{"description": "Not modified."},
			"416":     obj{"description": "Range not satisfiable.", "content": obj{"text/plain": obj{"schema": str}}},
			"default": errorRef, "400": errorRef, "404": errorRef,
		})
	paths["/api/files/{collection}/{recordId}/{filename}"] = obj{"parameters": []any{path("collection"), path("recordId"), path("filename")}, "get": file, "head": file}
	paths["/api/files/token"] = obj{"post": op("files", "A short-lived token for protected files", nil, nil,
		withErrors(response("The token.", object(obj{"token": str}, "token")), "401"))}

	paths["/api/realtime"] = obj{
		"get": op("realtime", "Open the server-sent event stream", nil, nil, obj{
			"200":     obj{"description": "An SSE stream; the first event, PB_CONNECT, carries the clientId.", "content": obj{"text/event-stream": obj{"schema": str}}},
			"default": errorRef,
		}),
		"post": op("realtime", "Set the client's subscriptions", nil, jsonBody(object(obj{"clientId": str, "subscriptions": arrayOf(str)}, "clientId")),
			noContent("Subscribed.", "400", "403", "404")),
	}
	paths["/api/realtime/ws"] = obj{"get": op("realtime", "Open a WebSocket carrying the same events and subscriptions as the SSE stream", nil, nil, obj{
		"101": obj{"description": "Switching to the WebSocket protocol."}, "default": errorRef,
	})}

	paths["/api/batch"] = obj{"post": op("batch", "Run creates, updates, upserts and deletes in one transaction", nil,
		obj{"required": true, "content": obj{
			"application/json": obj{"schema": object(obj{"requests": arrayOf(object(obj{"method": str, "url": str, "body": anyObj, "headers": anyObj}, "method", "url"))}, "requests")},
			// @jsonPayload carries the JSON body, file parts are named requests.N.field.
			"multipart/form-data": obj{"schema": anyObj},
		}},
		withErrors(response("One result per request.", arrayOf(object(obj{"status": integer, "body": anyValue}, "status", "body"))), "400", "403"))}

	gqlBody := object(obj{"query": str, "variables": anyObj, "operationName": str}, "query")
	gqlResp := object(obj{"data": anyValue, "errors": arrayOf(anyObj), "extensions": anyObj})
	gqlResponses := obj{"200": response("The result.", gqlResp), "400": response("A query that does not parse or validate.", gqlResp), "default": errorRef}
	paths["/api/graphql"] = obj{
		"post": op("graphql", "Run a GraphQL operation (see docs/graphql.md)", nil, jsonBody(gqlBody), gqlResponses),
		"get":  op("graphql", "Run a GraphQL query", []any{obj{"name": "query", "in": "query", "required": true, "schema": str}}, nil, gqlResponses),
	}

	// The provider redirects the browser here; the page closes itself.
	page := obj{"text/html": obj{"schema": str}}
	redirect := op("auth", "OAuth2 redirect: hands the code to the realtime client that started the sign-in", []any{
		query("state", "string", "The realtime client id."), query("code", "string", "The provider's code."), query("error", "string", "The provider's error.")}, nil,
		obj{"200": obj{"description": "A page that closes the window.", "content": page},
			"400":     obj{"description": "No state, or the client is gone.", "content": obj{"text/html": obj{"schema": str}, "application/json": obj{"schema": ref("Error")}}},
			"default": errorRef})
	post := op("auth", "OAuth2 redirect with response_mode=form_post (Apple)", nil,
		obj{"content": obj{"application/x-www-form-urlencoded": obj{"schema": object(obj{"state": str, "code": str, "error": str})}}}, redirect["responses"].(obj))
	paths["/api/oauth2-redirect"] = obj{"get": redirect, "post": post}

	paths["/api/installer"] = obj{"post": op("system", "Create the first superuser with the installer token", nil,
		jsonBody(object(obj{"token": str, "email": str, "password": str, "passwordConfirm": str}, "token", "email", "password")), noContent("Created.", "400", "403"))}

	paths["/api/openapi.json"] = obj{"get": op("system", "This document", nil, nil, obj{"200": response("The OpenAPI 3.1 document.", anyObj), "default": errorRef})}
}
