package openapi

// addAdminPaths adds the endpoints only superusers may call: collections,
// settings, logs, API keys, backups, jobs, crons, webhooks and the dev
// mailbox. Their bodies are described as far as clients rely on them;
// the objects may carry more properties.
func addAdminPaths(paths obj, schemas obj) {
	const su = "401"
	schemas["Settings"] = anyObj
	schemas["LogEntry"] = object(obj{"id": str, "created": str, "updated": str, "level": integer, "message": str, "data": anyValue}, "id", "created", "level", "message")
	schemas["APIKey"] = object(obj{"id": str, "name": str, "prefix": str, "scopes": arrayOf(str), "expires": str, "lastUsed": str, "created": str,
		"key": obj{"type": "string", "description": "The key itself, only in the answer that creates it."}}, "id", "name", "prefix", "scopes")
	schemas["Backup"] = object(obj{"key": str, "size": integer, "modified": str}, "key", "size", "modified")
	schemas["Job"] = object(obj{"id": integer, "kind": str, "queue": str, "state": str, "priority": integer, "attempt": integer, "maxAttempts": integer,
		"args": anyValue, "errors": obj{"type": []string{"array", "null"}, "items": str}, "tags": obj{"type": []string{"array", "null"}, "items": str},
		"created": str, "scheduled": str, "attempted": nullableStr, "finalized": nullableStr}, "id", "kind", "state")
	schemas["Webhook"] = object(obj{"id": str, "name": str, "url": str, "collections": arrayOf(str), "events": arrayOf(str), "filter": str,
		"secret": str, "active": boolean, "disabledReason": str, "created": str, "updated": str}, "id", "name", "url")
	schemas["DevMail"] = object(obj{"id": str, "time": str, "from": str, "to": arrayOf(str), "subject": str, "text": str, "html": str,
		"headers": obj{"type": "object", "additionalProperties": str}}, "id", "to", "subject")
	idParam := []any{path("id")}

	paths["/api/collections"] = obj{
		"get": op("collections", "List collections (superusers)", []any{query("page", "integer", "Page number."), query("perPage", "integer", "Per page."),
			query("sort", "string", "Sort."), query("filter", "string", "name, type, id or system compared with =, != or ~, joined by &&."), query("skipTotal", "boolean", "Skip counting.")},
			nil, withErrors(response("A page of collections.", page(ref("Collection"))), "400", su, "403")),
		"post": op("collections", "Create a collection (superusers)", nil, jsonBody(ref("CollectionCreate")), withErrors(response("The collection.", ref("Collection")), "400", su, "403")),
	}
	paths["/api/collections/import"] = obj{"put": op("collections", "Replace or merge the collections (superusers)", nil,
		jsonBody(object(obj{"collections": arrayOf(ref("Collection")), "deleteMissing": boolean}, "collections")), noContent("Imported.", "400", su, "403"))}
	paths["/api/collections/meta/scaffolds"] = obj{"get": op("collections", "Empty base, auth and view collections to start from (superusers)", nil, nil,
		withErrors(response("One per type.", object(obj{"base": ref("Collection"), "auth": ref("Collection"), "view": ref("Collection")}, "base", "auth", "view")), su, "403"))}
	paths["/api/collections/meta/oauth2-providers"] = obj{"get": op("collections", "The OAuth2 providers a collection may use (superusers)", nil, nil,
		withErrors(response("Providers.", arrayOf(object(obj{"name": str, "displayName": str}, "name", "displayName"))), su, "403"))}
	paths["/api/collections/meta/dry-run-view"] = obj{"post": op("collections", "The view a body would make, without saving it (superusers)", nil,
		jsonBody(anyObj), withErrors(response("The view collection, fields inferred.", ref("Collection")), "400", su, "403"))}
	paths["/api/collections/{collection}"] = obj{"parameters": []any{path("collection")},
		"get":    op("collections", "View a collection (superusers)", nil, nil, withErrors(response("The collection.", ref("Collection")), su, "403", "404")),
		"patch":  op("collections", "Update a collection (superusers)", nil, jsonBody(anyObj), withErrors(response("The collection.", ref("Collection")), "400", su, "403", "404")),
		"delete": op("collections", "Delete a collection (superusers)", nil, nil, noContent("Deleted.", "400", su, "403", "404")),
	}
	paths["/api/collections/{collection}/truncate"] = obj{"parameters": []any{path("collection")},
		"delete": op("collections", "Delete every record of a collection (superusers)", nil, nil, noContent("Truncated.", "400", su, "403", "404"))}

	paths["/api/settings"] = obj{
		"get":   op("settings", "The settings, secrets blanked (superusers)", nil, nil, withErrors(response("Settings.", ref("Settings")), su, "403")),
		"patch": op("settings", "Change the settings (superusers)", nil, jsonBody(anyObj), withErrors(response("Settings.", ref("Settings")), "400", su, "403")),
	}
	paths["/api/settings/test/email"] = obj{"post": op("settings", "Send a test email (superusers)", nil,
		jsonBody(object(obj{"email": str, "template": str, "collection": str}, "email")), noContent("Sent.", "400", su, "403"))}
	paths["/api/settings/test/s3"] = obj{"post": op("settings", "Check the file or backup storage (superusers)", nil,
		jsonBody(object(obj{"filesystem": str})), noContent("Reachable.", "400", su, "403"))}
	paths["/api/dev/mails"] = obj{"get": op("settings", "Emails held while SMTP is off, newest first (superusers)", nil, nil,
		withErrors(response("Emails.", arrayOf(ref("DevMail"))), su, "403"))}
	paths["/api/dev/mails/{id}"] = obj{"parameters": idParam,
		"get": op("settings", "One held email (superusers)", nil, nil, withErrors(response("The email.", ref("DevMail")), su, "403", "404"))}

	paths["/api/logs"] = obj{"get": op("logs", "The request and application log (superusers)", []any{query("page", "integer", "Page."), query("perPage", "integer", "Per page."),
		query("filter", "string", "A filter expression."), query("sort", "string", "Sort.")}, nil, withErrors(response("A page of entries.", page(ref("LogEntry"))), "400", su, "403"))}
	paths["/api/logs/stats"] = obj{"get": op("logs", "Entries per hour (superusers)", []any{query("filter", "string", "A filter expression.")}, nil,
		withErrors(response("Counts, oldest first.", arrayOf(object(obj{"total": integer, "date": str}, "total", "date"))), "400", su, "403"))}
	paths["/api/logs/{id}"] = obj{"parameters": idParam,
		"get": op("logs", "One log entry (superusers)", nil, nil, withErrors(response("The entry.", ref("LogEntry")), su, "403", "404"))}

	paths["/api/api-keys"] = obj{
		"get": op("api-keys", "API keys, without secrets (superusers)", nil, nil, withErrors(response("Keys.", object(obj{"items": arrayOf(ref("APIKey"))}, "items")), su, "403")),
		"post": op("api-keys", "Make an API key (superusers)", nil, jsonBody(object(obj{"name": str, "scopes": arrayOf(str), "expires": obj{"type": "string", "description": "An expiry date; or give duration."},
			"duration": obj{"type": "integer", "description": "Seconds until it expires."}}, "name")),
			withErrors(response("The key, with its secret this once.", ref("APIKey")), "400", su, "403")),
	}
	paths["/api/api-keys/{id}"] = obj{"parameters": idParam, "delete": op("api-keys", "Revoke an API key (superusers)", nil, nil, noContent("Revoked.", su, "403", "404"))}

	paths["/api/backups"] = obj{
		"get":  op("backups", "Backup archives (superusers)", nil, nil, withErrors(response("Archives.", arrayOf(ref("Backup"))), "400", su, "403")),
		"post": op("backups", "Make a backup (superusers)", nil, obj{"content": obj{"application/json": obj{"schema": object(obj{"name": str})}}}, noContent("Made.", "400", su, "403")),
	}
	paths["/api/backups/upload"] = obj{"post": op("backups", "Upload a backup archive (superusers)", nil,
		obj{"required": true, "content": obj{"multipart/form-data": obj{"schema": object(obj{"file": obj{"type": "string", "contentMediaType": "application/zip"}}, "file")}}},
		noContent("Stored.", "400", su, "403"))}
	paths["/api/backups/{key}"] = obj{"parameters": []any{path("key")},
		"get": op("backups", "Download a backup archive (superusers, or a superuser's file token)", []any{query("token", "string", "A superuser's file token.")}, nil,
			obj{"200": obj{"description": "The archive.", "content": obj{"application/zip": obj{"schema": obj{"type": "string", "contentMediaType": "application/zip"}}}},
				"default": errorRef, "400": errorRef, "403": errorRef, "404": errorRef}),
		"delete": op("backups", "Delete a backup archive (superusers)", nil, nil, noContent("Deleted.", "400", su, "403", "404")),
	}
	paths["/api/backups/{key}/restore"] = obj{"parameters": []any{path("key")},
		"post": op("backups", "Restore a backup archive in place (superusers)", nil, nil, noContent("Restored.", "400", su, "403", "404"))}

	paths["/api/jobs"] = obj{"get": op("jobs", "Background jobs (superusers)", []any{query("state", "string", "Only jobs in these states (comma-separated)."),
		query("kind", "string", "Only jobs of these kinds."), query("queue", "string", "Only jobs of these queues."),
		query("perPage", "integer", "At most this many (1000)."), query("after", "integer", "Jobs with a larger id.")}, nil,
		withErrors(response("Jobs.", object(obj{"items": arrayOf(ref("Job"))}, "items")), "400", su, "403"))}
	paths["/api/jobs/{id}"] = obj{"parameters": idParam, "get": op("jobs", "One job (superusers)", nil, nil, withErrors(response("The job.", ref("Job")), "400", su, "403", "404"))}
	paths["/api/jobs/{id}/retry"] = obj{"parameters": idParam, "post": op("jobs", "Run a job again (superusers)", nil, nil, withErrors(response("The job.", ref("Job")), "400", su, "403", "404"))}
	paths["/api/jobs/{id}/cancel"] = obj{"parameters": idParam, "post": op("jobs", "Cancel a job (superusers)", nil, nil, withErrors(response("The job.", ref("Job")), "400", su, "403", "404"))}
	paths["/api/crons"] = obj{"get": op("jobs", "Scheduled jobs (superusers)", nil, nil,
		withErrors(response("Crons.", arrayOf(object(obj{"id": str, "expression": str}, "id", "expression"))), su, "403"))}
	paths["/api/crons/{id}"] = obj{"parameters": idParam, "post": op("jobs", "Run a cron now (superusers)", nil, nil, noContent("Started.", su, "403", "404"))}
	paths["/api/webhooks"] = obj{
		"get":  op("webhooks", "Webhooks (superusers)", nil, nil, withErrors(response("Webhooks.", page(ref("Webhook"))), su, "403")),
		"post": op("webhooks", "Make a webhook (superusers)", nil, jsonBody(ref("Webhook")), withErrors(response("The webhook.", ref("Webhook")), "400", su, "403")),
	}
	paths["/api/webhooks/{id}"] = obj{"parameters": idParam,
		"get":    op("webhooks", "One webhook (superusers)", nil, nil, withErrors(response("The webhook.", ref("Webhook")), su, "403", "404")),
		"patch":  op("webhooks", "Change a webhook (superusers)", nil, jsonBody(anyObj), withErrors(response("The webhook.", ref("Webhook")), "400", su, "403", "404")),
		"delete": op("webhooks", "Delete a webhook (superusers)", nil, nil, noContent("Deleted.", su, "403", "404")),
	}
	paths["/api/webhooks/{id}/deliveries"] = obj{"parameters": idParam, "get": op("webhooks", "A webhook's deliveries, newest first (superusers)",
		[]any{query("perPage", "integer", "At most this many.")}, nil, withErrors(response("Deliveries.", object(obj{"items": arrayOf(anyObj)}, "items")), "400", su, "403", "404"))}
	paths["/api/webhooks/{id}/deliveries/{delivery}/retry"] = obj{"parameters": []any{path("id"), path("delivery")},
		"post": op("webhooks", "Send a delivery again (superusers)", nil, nil, withErrors(response("The delivery.", anyObj), "400", su, "403", "404"))}
}
