package files

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// cleanupTimeout bounds Commit and Rollback, which run detached from the
// caller's cancellation: a client that hangs up right after the database
// commit must not leave the replaced files behind.
const cleanupTimeout = 30 * time.Second

// Changes collects the file side of one database transaction (a record
// create, update or delete, or a whole batch): the files written for it and
// the files it makes unreferenced. The order that keeps storage and
// database consistent is
//
//	ch := files.NewChanges(st, logger)
//	... validate uploads; begin tx
//	key, err := ch.Put(ctx, upload, collectionID, recordID) // new files first
//	ch.Remove(collectionID, recordID, oldName)              // scheduled only
//	... write the record; commit
//	if committed { ch.Commit(ctx) } else { ch.Rollback(ctx) }
//
// so a reader never sees a record that names a missing file. A crash
// between the steps leaves at worst unreferenced files, which the
// [Sweeper] removes. A Changes is safe for concurrent use; Commit and
// Rollback are final and only the first of them has an effect.
type Changes struct {
	st  Storage
	log *slog.Logger

	mu       sync.Mutex
	added    []string // deleted by Rollback
	removed  []string // file keys deleted (with thumbnails) by Commit
	prefixes []string // record or collection prefixes deleted by Commit
	done     bool
}

// NewChanges returns an empty Changes over st. logger receives cleanup
// failures (nil: slog.Default()).
func NewChanges(st Storage, logger *slog.Logger) *Changes {
	if logger == nil {
		logger = slog.Default()
	}
	return &Changes{st: st, log: logger}
}

// Put stores the upload as a file of the record and remembers its key for
// Rollback. It returns the key.
func (c *Changes) Put(ctx context.Context, u *Upload, collectionID, recordID string) (string, error) {
	key, err := u.Key(collectionID, recordID)
	if err != nil {
		return "", err
	}
	// Remembered before the write: a Put that fails half-way (S3
	// multipart) is cleaned up by Rollback too.
	if err := c.Added(key); err != nil {
		return "", err
	}
	if err := u.Put(ctx, c.st, key); err != nil {
		return "", err
	}
	return key, nil
}

// Added remembers a key written by other means, so that Rollback deletes it.
func (c *Changes) Added(key string) error {
	if err := ValidateKey(key); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return errors.New("files: changes already committed or rolled back")
	}
	c.added = append(c.added, key)
	return nil
}

// Remove schedules the deletion of a record's file (and its thumbnails) at
// Commit: a file removed from a record, or replaced by an upload.
func (c *Changes) Remove(collectionID, recordID, filename string) error {
	key, err := Key(collectionID, recordID, filename)
	if err != nil {
		return err
	}
	return c.schedule(&c.removed, key)
}

// RemoveRecord schedules the deletion of every file of a deleted record at
// Commit.
func (c *Changes) RemoveRecord(collectionID, recordID string) error {
	p, err := RecordPrefix(collectionID, recordID)
	if err != nil {
		return err
	}
	return c.schedule(&c.prefixes, p)
}

// RemoveCollection schedules the deletion of every file of a deleted
// collection at Commit.
func (c *Changes) RemoveCollection(collectionID string) error {
	p, err := CollectionPrefix(collectionID)
	if err != nil {
		return err
	}
	return c.schedule(&c.prefixes, p)
}

func (c *Changes) schedule(list *[]string, key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done {
		return errors.New("files: changes already committed or rolled back")
	}
	*list = append(*list, key)
	return nil
}

// Commit deletes the files scheduled for removal, after the transaction
// committed. Failures are logged and returned joined; the files they leave
// are unreferenced, so the Sweeper deletes them later. The caller's
// cancellation is ignored (bounded by a 30 s timeout).
func (c *Changes) Commit(ctx context.Context) error {
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		return nil
	}
	c.done = true
	removed, prefixes := c.removed, c.prefixes
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	var errs []error
	for _, key := range removed {
		if err := DeleteFile(ctx, c.st, key); err != nil {
			errs = append(errs, err)
			c.log.Error("files: delete replaced file", "key", key, "err", err)
		}
	}
	for _, p := range prefixes {
		if err := c.st.DeletePrefix(ctx, p); err != nil {
			errs = append(errs, err)
			c.log.Error("files: delete files of deleted record or collection", "prefix", p, "err", err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("files: commit: %w", err)
	}
	return nil
}

// Rollback deletes the files written for the transaction, after it failed
// or was rolled back. Failures are handled as in Commit.
func (c *Changes) Rollback(ctx context.Context) error {
	c.mu.Lock()
	if c.done {
		c.mu.Unlock()
		return nil
	}
	c.done = true
	added := c.added
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	var errs []error
	for _, key := range added {
		if err := DeleteFile(ctx, c.st, key); err != nil {
			errs = append(errs, err)
			c.log.Error("files: delete uploaded file after rollback", "key", key, "err", err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("files: rollback: %w", err)
	}
	return nil
}

// Pending returns copies of the keys written so far and of the file keys
// and prefixes scheduled for removal.
func (c *Changes) Pending() (added, removed, prefixes []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.added...), append([]string(nil), c.removed...), append([]string(nil), c.prefixes...)
}
