package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// Switchable is a [Storage] whose backend can be replaced while it is in
// use, for storage chosen by run-time settings (PocketBase's settings.s3):
// the server keeps one Storage value while a superuser moves new uploads
// from the local directory to a bucket and back.
//
// Every call reads the current backends once, atomically, and runs to its
// end on them, so an upload or download in flight when [Switchable.Switch]
// runs finishes where it started; calls that begin afterwards use the new
// backends. Switching moves no files.
//
// Besides its primary backend, a Switchable may have a fallback: the
// storage that held files before, whose objects stay readable and
// deletable. Writes (Put) go to the primary only; Open, Attributes and
// Exists try the fallback when the primary does not have the key; List,
// Delete and DeletePrefix cover both, so deleting a record also removes
// the files it had before the switch.
type Switchable struct {
	cur atomic.Pointer[switchTarget]
}

// switchTarget is one generation of backends, replaced as a whole.
type switchTarget struct {
	primary  Storage
	fallback Storage // nil: none
}

// NewSwitchable returns a Switchable over primary, with an optional
// fallback (nil for none).
func NewSwitchable(primary, fallback Storage) *Switchable {
	s := &Switchable{}
	s.Switch(primary, fallback)
	return s
}

// Switch makes primary (with fallback, which may be nil) the backends of
// the calls that start from now on. It returns the backends it held that
// it no longer holds, which the caller closes when nothing uses them any
// more ([S3.Close] only drops idle connections, so an S3 store may be
// closed at once). primary must not be nil; fallback equal to primary is
// dropped.
func (s *Switchable) Switch(primary, fallback Storage) (released []Storage) {
	if primary == nil {
		panic("files: Switchable.Switch with a nil primary")
	}
	if fallback == primary {
		fallback = nil
	}
	old := s.cur.Swap(&switchTarget{primary: primary, fallback: fallback})
	if old == nil {
		return nil
	}
	for _, st := range []Storage{old.primary, old.fallback} {
		if st != nil && st != primary && st != fallback {
			released = append(released, st)
		}
	}
	return released
}

// Current returns the primary backend: where uploads go now.
func (s *Switchable) Current() Storage { return s.cur.Load().primary }

// Put stores in the primary backend.
func (s *Switchable) Put(ctx context.Context, key string, r io.Reader, size int64, contentType string) error {
	return s.cur.Load().primary.Put(ctx, key, r, size, contentType)
}

// Open opens key in the primary backend, else in the fallback.
func (s *Switchable) Open(ctx context.Context, key string) (*Object, error) {
	t := s.cur.Load()
	obj, err := t.primary.Open(ctx, key)
	if t.fallback == nil || !errors.Is(err, ErrNotFound) {
		return obj, err
	}
	return t.fallback.Open(ctx, key)
}

// Attributes reads key's attributes in the primary backend, else in the
// fallback.
func (s *Switchable) Attributes(ctx context.Context, key string) (Attributes, error) {
	t := s.cur.Load()
	a, err := t.primary.Attributes(ctx, key)
	if t.fallback == nil || !errors.Is(err, ErrNotFound) {
		return a, err
	}
	return t.fallback.Attributes(ctx, key)
}

// Exists reports whether the primary backend or the fallback has key.
func (s *Switchable) Exists(ctx context.Context, key string) (bool, error) {
	t := s.cur.Load()
	ok, err := t.primary.Exists(ctx, key)
	if ok || err != nil || t.fallback == nil {
		return ok, err
	}
	return t.fallback.Exists(ctx, key)
}

// Delete deletes key from both backends.
func (s *Switchable) Delete(ctx context.Context, key string) error {
	t := s.cur.Load()
	return t.both(func(st Storage) error { return st.Delete(ctx, key) })
}

// DeletePrefix deletes the prefix from both backends.
func (s *Switchable) DeletePrefix(ctx context.Context, prefix string) error {
	t := s.cur.Load()
	return t.both(func(st Storage) error { return st.DeletePrefix(ctx, prefix) })
}

// List lists both backends, each key once (the primary's attributes win
// when both have it), so that the backups made and the files stored before
// a switch are still listed and swept. The fallback's keys are held in
// memory during the call: its cost grows with the fallback (the storage
// used before the switch), not with the primary.
func (s *Switchable) List(ctx context.Context, prefix string, fn func(Attributes) error) error {
	t := s.cur.Load()
	if t.fallback == nil {
		return t.primary.List(ctx, prefix, fn)
	}
	old := map[string]Attributes{}
	if err := t.fallback.List(ctx, prefix, func(a Attributes) error {
		old[a.Key] = a
		return nil
	}); err != nil {
		return fmt.Errorf("files: previous storage: %w", err)
	}
	if err := t.primary.List(ctx, prefix, func(a Attributes) error {
		delete(old, a.Key)
		return fn(a)
	}); err != nil {
		return err
	}
	for _, a := range old {
		if err := fn(a); err != nil {
			return err
		}
	}
	return nil
}

// RemoveStaleTemp removes the temporary files a crash left in the
// backends that leave them (the local store), for the [Sweeper].
func (s *Switchable) RemoveStaleTemp(ctx context.Context, olderThan time.Time) (int, error) {
	t := s.cur.Load()
	n := 0
	err := t.both(func(st Storage) error {
		tr, ok := st.(staleTempRemover)
		if !ok {
			return nil
		}
		m, err := tr.RemoveStaleTemp(ctx, olderThan)
		n += m
		return err
	})
	return n, err
}

// Close closes the backends it holds. Backends released by Switch are the
// caller's to close.
func (s *Switchable) Close() error {
	t := s.cur.Load()
	return t.both(Storage.Close)
}

// both runs fn on the primary backend and on the fallback, and joins
// their errors.
func (t *switchTarget) both(fn func(Storage) error) error {
	err := fn(t.primary)
	if t.fallback == nil {
		return err
	}
	if ferr := fn(t.fallback); ferr != nil {
		err = errors.Join(err, fmt.Errorf("files: previous storage: %w", ferr))
	}
	return err
}
