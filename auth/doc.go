// Package auth issues and verifies Plinth's auth tokens and hashes
// passwords. Tokens are HS256 JWTs, as in PocketBase, signed with a key
// derived from the server's secret and the record's tokenKey, so changing a
// record's tokenKey (on password or email change) invalidates every token
// issued before.
package auth
