// Package settings holds the application settings that superusers change
// at run time through /api/settings, in PocketBase's JSON shape: meta
// (application name and URL, sender), smtp, rateLimits and batch.
//
// The package is pure: it defines the values, their defaults, their
// validation and how a PATCH body applies to them. Storage (the _params
// table), caching and the objects built from the settings (mail sender,
// rate-limit middleware) belong to the API layer.
//
// Secrets: the SMTP password is never written by [Settings.Public]; a PATCH
// that leaves it out keeps the stored one.
package settings
