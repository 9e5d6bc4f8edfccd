// Package gql serves the collections as a GraphQL API at /api/graphql, in
// the naming Hasura users know (posts, posts_by_pk, posts_aggregate,
// insert_posts_one, update_posts_by_pk, delete_posts_by_pk, posts_events).
//
// It is a transport, like api: every read and write goes through the
// record service with the caller the REST API would resolve for the same
// request, so rules, hidden fields and API-key scopes apply unchanged. The
// GraphQL schema is built at runtime from the store's schema snapshot and
// rebuilt whenever the snapshot changes; gqlgen provides the HTTP and
// WebSocket transports and the query validation, this package the
// executor over the runtime schema (gqlgen's code generator needs static
// Go types, which runtime collections do not have).
package gql
