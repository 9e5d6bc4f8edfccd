package gql

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
)

// subscribe runs a subscription operation.
func (e *executor) subscribe(ctx context.Context, op *graphql.OperationContext, st *reqState) graphql.ResponseHandler {
	return graphql.OneShot(graphql.ErrorResponse(ctx, "subscriptions are not available"))
}
