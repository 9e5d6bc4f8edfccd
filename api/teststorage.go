package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/plinthdev/plinth/schema"
)

// storageProbePrefix holds the probe object of the storage test: two
// segments, never a record's file, never swept.
const storageProbePrefix = "_probe"

// testStorage is PocketBase's POST /api/settings/test/s3: it checks that
// the storage the settings select takes a write, serves it back and
// deletes it, and answers the storage's error as a 400 when it does not.
// "storage" is the file storage: the bucket of settings.s3 when enabled
// (or the one configured at start-up, which takes precedence), else the
// local directory. "backups" is where backup archives go: the bucket of
// backups.s3 when enabled, else the file storage. Both point at the
// storage in force, even right after a PATCH of the settings.
func (s *Server) testStorage(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	st := s.cfg.Files
	switch fs, _ := body["filesystem"].(string); fs {
	case "storage":
	case "backups":
		st = s.backupStorage()
	default:
		return schema.Errors{"filesystem": schema.NewFieldError("validation_invalid_value", `Must be "storage" or "backups".`)}
	}
	if st == nil {
		return badRequest("No file storage is configured.", nil)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	key := storageProbePrefix + "/" + schema.NewID() + ".txt"
	const content = "plinth storage test"
	if err := st.Put(ctx, key, strings.NewReader(content), int64(len(content)), "text/plain"); err != nil {
		return badRequest("The file storage refused a write: "+err.Error(), err)
	}
	defer st.Delete(context.WithoutCancel(ctx), key)
	obj, err := st.Open(ctx, key)
	if err != nil {
		return badRequest("The file storage did not serve back what it stored: "+err.Error(), err)
	}
	buf := make([]byte, len(content)+1)
	n, _ := obj.Read(buf)
	obj.Close()
	if string(buf[:n]) != content {
		return badRequest("The file storage served back other content than it stored.", nil)
	}
	if err := st.Delete(ctx, key); err != nil {
		return badRequest("The file storage refused a delete: "+err.Error(), err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
