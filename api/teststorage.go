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
// the file storage (which also holds the backups, so "storage" and
// "backups" test the same one; on S3 when the server runs with --s3)
// takes a write, serves it back and deletes it, and answers the storage's
// error as a 400 when it does not.
func (s *Server) testStorage(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	if fs, _ := body["filesystem"].(string); fs != "storage" && fs != "backups" {
		return schema.Errors{"filesystem": schema.NewFieldError("validation_invalid_value", `Must be "storage" or "backups".`)}
	}
	if s.cfg.Files == nil {
		return badRequest("No file storage is configured.", nil)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	key := storageProbePrefix + "/" + schema.NewID() + ".txt"
	const content = "plinth storage test"
	if err := s.cfg.Files.Put(ctx, key, strings.NewReader(content), int64(len(content)), "text/plain"); err != nil {
		return badRequest("The file storage refused a write: "+err.Error(), err)
	}
	defer s.cfg.Files.Delete(context.WithoutCancel(ctx), key)
	obj, err := s.cfg.Files.Open(ctx, key)
	if err != nil {
		return badRequest("The file storage did not serve back what it stored: "+err.Error(), err)
	}
	buf := make([]byte, len(content)+1)
	n, _ := obj.Read(buf)
	obj.Close()
	if string(buf[:n]) != content {
		return badRequest("The file storage served back other content than it stored.", nil)
	}
	if err := s.cfg.Files.Delete(ctx, key); err != nil {
		return badRequest("The file storage refused a delete: "+err.Error(), err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
