package record

import (
	"context"
	"fmt"

	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// Hooks is told of record reads and writes, whatever the transport: REST,
// batch, GraphQL or Go code all go through the Service. The plinth package
// implements it for the hooks its users bind.
type Hooks interface {
	// BeforeWrite runs inside the write's transaction once the record is
	// valid and the caller allowed, before it is stored. It may change
	// e.Record (which is validated again) or refuse the write with an
	// error; a *HookError becomes the response it describes.
	BeforeWrite(ctx context.Context, tx *store.Tx, e *WriteEvent) error
	// AfterWrite runs once the transaction has committed, never for a
	// write that was rolled back. It cannot fail the write.
	AfterWrite(ctx context.Context, e *WriteEvent)
	// AfterRead may enrich the records a view or list returns to caller.
	AfterRead(ctx context.Context, caller *Caller, c *schema.Collection, records []*schema.Record) error
}

// WriteEvent describes one record write.
type WriteEvent struct {
	// Action is store.ActionCreate, ActionUpdate or ActionDelete.
	Action     string
	Collection *schema.Collection
	// Record is the record as it will be (was, for a delete) stored.
	Record *schema.Record
	// Original is the stored record before an update; nil otherwise.
	Original *schema.Record
	Caller   *Caller
}

// HookError is how a hook refuses an operation: the API answers Status
// (a 4xx; anything else becomes 400) with Message and Data, in
// PocketBase's error shape.
type HookError struct {
	Status  int
	Message string
	Data    map[string]any
}

func (e *HookError) Error() string { return fmt.Sprintf("%d: %s", e.Status, e.Message) }

// beforeWrite runs the before hooks of a write and arranges its after
// hooks; after a change by a hook the record is validated again.
func (s *Service) beforeWrite(ctx context.Context, tx *store.Tx, e *WriteEvent) error {
	if s.Hooks == nil {
		return nil
	}
	if err := s.Hooks.BeforeWrite(ctx, tx, e); err != nil {
		return err
	}
	if e.Action != store.ActionDelete {
		if errs := schema.Validate(e.Record); len(errs) > 0 {
			return errs
		}
	}
	hooks := s.Hooks
	tx.AfterCommit(func() { hooks.AfterWrite(context.WithoutCancel(ctx), e) })
	return nil
}

// afterRead runs the read hooks on records the caller is about to get.
func (s *Service) afterRead(ctx context.Context, caller *Caller, c *schema.Collection, records []*schema.Record) error {
	if s.Hooks == nil || len(records) == 0 {
		return nil
	}
	return s.Hooks.AfterRead(ctx, caller, c, records)
}
