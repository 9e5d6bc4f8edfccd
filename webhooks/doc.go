// Package webhooks sends signed HTTP notifications of record changes,
// following the Standard Webhooks specification (standardwebhooks.com):
// each delivery carries webhook-id (stable across retries),
// webhook-timestamp and webhook-signature ("v1," and a base64 HMAC-SHA256
// of id.timestamp.body under the endpoint's whsec_ secret).
//
// Events are captured inside the record's transaction (store.OnBeforeCommit,
// so every transport and cascaded deletes are seen) as outbox rows of the
// job queue: a change that rolls back sends nothing, one that commits is
// delivered at least once, retried on the documented schedule, and
// endpoints that keep failing are disabled. Targets on private, loopback
// and link-local addresses are refused, after DNS resolution and on every
// redirect, unless the settings allow private networks. See docs/jobs.md.
package webhooks
