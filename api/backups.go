package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/backup"
	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/schema"
)

// The backups API, PocketBase's: archives (see package backup) kept under
// backup.Prefix in the backups storage (backups.s3) or the file storage,
// for superusers.

func (s *Server) backupRoutes(mux *http.ServeMux) {
	if s.cfg.Files == nil {
		return
	}
	s.backups = &backup.Service{Store: s.store, Files: s.cfg.Files, Archives: s.backupStorage(), Version: s.cfg.Version}
	mux.Handle("GET /api/backups", s.superusersOnly(s.listBackups))
	mux.Handle("POST /api/backups", s.withBodyLimits(s.authLimits, s.superusersOnly(s.createBackup)))
	mux.Handle("POST /api/backups/upload", s.withBodyLimits(s.uploadLimits, s.superusersOnly(s.uploadBackup)))
	mux.Handle("GET /api/backups/{key}", s.handle(s.downloadBackup))
	mux.Handle("DELETE /api/backups/{key}", s.superusersOnly(s.deleteBackup))
	mux.Handle("POST /api/backups/{key}/restore", s.superusersOnly(s.restoreBackup))
}

// backupStorage is where backup archives are kept: Config.Backups, else
// the file storage.
func (s *Server) backupStorage() files.Storage {
	if s.cfg.Backups != nil {
		return s.cfg.Backups
	}
	return s.cfg.Files
}

// uploadLimits take a whole archive (MaxBodyBytes) as one file part.
func (s *Server) uploadLimits(*http.Request) bodyLimits {
	return bodyLimits{json: s.cfg.MaxAuthBodyBytes, files: s.cfg.MaxBodyBytes}
}

func backupError(err error) error {
	switch {
	case errors.Is(err, backup.ErrNotFound):
		return notFound()
	case errors.Is(err, backup.ErrInvalidName), errors.Is(err, backup.ErrExists):
		return badRequest("Failed to process the backup: "+err.Error()+".", nil)
	}
	return err
}

func (s *Server) listBackups(w http.ResponseWriter, r *http.Request) error {
	list, err := s.backups.List(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) createBackup(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	name, _ := body["name"].(string)
	if _, err := s.backups.Create(r.Context(), strings.TrimSpace(name)); err != nil {
		return backupError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) uploadBackup(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		return badRequest("Send the archive as the multipart field \"file\".", err)
	}
	defer r.MultipartForm.RemoveAll()
	f, h, err := r.FormFile("file")
	if err != nil {
		return badRequest("Send the archive as the multipart field \"file\".", err)
	}
	defer f.Close()
	if err := s.backups.Upload(r.Context(), h.Filename, f, h.Size); err != nil {
		if errors.Is(err, backup.ErrInvalidName) || errors.Is(err, backup.ErrExists) {
			return backupError(err)
		}
		return badRequest("The file is not a Plinth backup: "+err.Error()+".", nil)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// downloadBackup serves an archive to the holder of a superuser's file
// token (?token=, as PocketBase's SDK builds the URL), so a browser can
// download it without the auth token in the URL.
func (s *Server) downloadBackup(w http.ResponseWriter, r *http.Request) error {
	viewer, _, err := s.tokens.Verify(r.Context(), strings.TrimSpace(r.URL.Query().Get("token")), auth.TypeFile)
	if err != nil || !isSuperuser(viewer) {
		return forbidden("The request requires a valid superuser file token.")
	}
	name := r.PathValue("key")
	k, err := backup.Key(name)
	if err != nil {
		return notFound()
	}
	err = files.Serve(w, r, s.backupStorage(), k, files.ServeOptions{Download: true, Name: name, CacheControl: "private, no-store"})
	if errors.Is(err, files.ErrNotFound) {
		return notFound()
	}
	return err
}

func (s *Server) deleteBackup(w http.ResponseWriter, r *http.Request) error {
	if err := s.backups.Delete(r.Context(), r.PathValue("key")); err != nil {
		return backupError(err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// restoreBackup replaces the data with the archive's, in one transaction
// (all or nothing), and serves on: the settings are reloaded, the schema
// swaps as for any collection change (on other instances too), the token
// secret stays, so the superuser's session goes on.
func (s *Server) restoreBackup(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.backups.RestoreInPlace(r.Context(), r.PathValue("key")); err != nil {
		var ve schema.Errors
		if errors.As(err, &ve) {
			return &Error{Status: http.StatusBadRequest, Message: "Failed to restore the backup: its collections do not validate here.", Data: ve}
		}
		if errors.Is(err, backup.ErrNotFound) {
			return notFound()
		}
		return badRequest("Failed to restore the backup ("+err.Error()+"); the data was left as it was.", err)
	}
	if err := s.LoadSettings(r.Context()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
