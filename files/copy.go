package files

import (
	"context"
	"errors"
	"fmt"
)

// CopyStats count the objects of a [Copy].
type CopyStats struct {
	Copied  int   // objects written to the destination
	Skipped int   // already there with the same size
	Bytes   int64 // bytes copied
}

// Copy copies every object under prefix ("" for all) from src to dst with
// its content type, for switching storage (keys are the same in every
// store). Objects already in dst with the same size are skipped, so an
// interrupted copy can be run again. Run it while nothing writes files (or
// run it twice, the second time with writes stopped); nothing is deleted
// from either store.
func Copy(ctx context.Context, dst, src Storage, prefix string) (CopyStats, error) {
	var st CopyStats
	err := src.List(ctx, prefix, func(a Attributes) error {
		if d, err := dst.Attributes(ctx, a.Key); err == nil && d.Size == a.Size {
			st.Skipped++
			return nil
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		obj, err := src.Open(ctx, a.Key)
		if err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil // deleted since the listing
			}
			return err
		}
		defer obj.Close()
		if err := dst.Put(ctx, a.Key, obj, obj.Size, obj.ContentType); err != nil {
			return err
		}
		st.Copied++
		st.Bytes += obj.Size
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("files: copy: %w", err)
	}
	return st, nil
}
