// Package ratelimit limits request rates the way PocketBase does, in memory
// for a single instance or through Redis so that several instances share one
// budget.
//
// # Rules
//
// A [Rule] names what it limits with its Label, in one of PocketBase's forms:
//
//   - a path: "/api/" (a trailing slash makes it a prefix) or
//     "/api/collections/users/auth-with-password" (an exact path);
//   - a method and a path: "POST /api/batch";
//   - a collection tag "users:auth" (collection:action), a wildcard tag
//     "*:auth" that matches the action on every collection, or a plain tag
//     such as "signup_form" that an application attaches to its own routes.
//
// Audience restricts a rule to guests ("@guest") or to authenticated clients
// ("@auth"); "" applies to both. [Match] picks the one rule that applies to a
// request: only that rule's budget is spent, as in PocketBase, so a request
// limited by "*:auth" does not also count against the "/api/" catch-all.
// [PathTags] derives PocketBase's tags from Plinth's routes.
//
// # Algorithm
//
// Both limiters count with the same sliding-window counter: time is cut into
// windows of the rule's Duration aligned on the Unix epoch, each key keeps the
// count of the current and of the previous window, and a request is allowed
// while
//
//	previous × (window − elapsed) / window + current + 1 ≤ max
//
// where elapsed is the time since the current window began. The previous
// window's count thus fades out linearly instead of resetting all at once, so
// a client cannot spend its budget twice across a window boundary. At most max
// requests are let through in each aligned window (so never more than 2×max
// in any span of one window), and a steady client gets max per window. A
// denied request is not counted. Times are counted in microseconds; the
// Redis limiter uses the Redis server's clock so that instances with skewed
// clocks still agree.
//
// The retryAfter returned with a denial is exact for that algorithm: the
// earliest time at which the same request would be allowed if nothing else
// is counted meanwhile.
//
// # Storage
//
// [NewMemory] keeps counters in a sharded map swept of expired keys, so its
// memory is bounded by the keys seen in the last two windows. [NewRedis]
// keeps one hash per key (fields s, c, p) under a prefix, updated atomically
// by a Lua script and expiring two windows after its window began; every
// instance pointed at the same Redis shares the budget.
//
// # Failed logins
//
// [FailedLogins] throttles password guessing per identity and per IP on top
// of a [Store]: identities are trimmed, lowercased and SHA-256 hashed before
// they become keys, so e-mail addresses never sit in Redis in the clear.
//
// # Client IP
//
// [TrustedProxy] decides the client IP that guests are counted under, as
// PocketBase's trustedProxy setting does: the connection's peer, unless
// headers are named (X-Forwarded-For, ...), of which only the last line is
// read, rightmost address first unless UseLeftmostIP. Proxies, a Plinth
// addition, restricts the peers whose headers are believed and skips their
// own addresses in the list. [ParsePrefixes] and [ContainsIP] serve the
// settings' excludedIPs, which no rule limits.
//
// # Failing open
//
// [Middleware] lets a request through when the limiter fails (Redis down or
// slow) and reports the error to its onError callback. Rate limiting protects
// capacity and slows guessing; it does not guard data, which the API rules
// still do on every request. Refusing every request while Redis is away would
// turn a cache outage into a full outage of the API, which is worse than a
// short time without limits.
package ratelimit
