package store

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// span starts a client span for one statement (or transaction) when
// tracing is on (Config.Tracer), under the request's span in ctx. The
// statement's text is recorded, never its arguments. Without a tracer it
// costs a nil check.
func (s *Store) span(ctx context.Context, name, statement string) (context.Context, func(error)) {
	if s.tracer == nil {
		return ctx, endNothing
	}
	attrs := []attribute.KeyValue{attribute.String("db.system", s.dialect.Name())}
	if statement != "" {
		attrs = append(attrs, attribute.String("db.statement", statement))
	}
	ctx, sp := s.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	return ctx, func(err error) {
		if err != nil {
			sp.RecordError(err)
			sp.SetStatus(codes.Error, err.Error())
		}
		sp.End()
	}
}

func endNothing(error) {}
