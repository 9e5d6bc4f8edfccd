package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// The installer lets the person who started a fresh instance create the
// first superuser from the dashboard: `plinth serve` prints a link with a
// one-time token (in the URL's fragment, which browsers never send), and
// the page posts it back to POST /api/installer with the new account. The
// token is random, kept only in this process's memory (as a hash), lives
// for InstallerTokenTTL, is spent by the first successful install, and is
// refused as soon as any superuser exists, however that one was created.

// InstallerTokenTTL is how long an installer link stays valid. Starting
// the server again prints a fresh link while no superuser exists.
const InstallerTokenTTL = time.Hour

// installer holds the current installer token; the zero value has none.
type installer struct {
	mu      sync.Mutex
	hash    [sha256.Size]byte
	expires time.Time
	// busy is set while an install runs, so that two requests with the
	// token cannot both create a superuser (PostgreSQL transactions do
	// not serialize the "no superuser yet" check as SQLite's writer does).
	busy bool
}

// errNoInstall is returned when a superuser exists: nothing to install.
var errNoInstall = errors.New("a superuser already exists")

// hasSuperuser reports whether any superuser account exists.
func (s *Server) hasSuperuser(ctx context.Context) (bool, error) {
	c := s.store.Schema().Lookup(superusersID)
	if c == nil {
		return false, errors.New("the _superusers collection is missing")
	}
	found, err := s.store.FindBy(ctx, c, 1, nil)
	if err != nil {
		return false, fmt.Errorf("look for a superuser: %w", err)
	}
	return len(found) > 0, nil
}

// InstallerToken issues a new installer token, replacing any previous
// one, and returns it; it returns "" when a superuser already exists.
func (s *Server) InstallerToken(ctx context.Context) (string, error) {
	exists, err := s.hasSuperuser(ctx)
	if err != nil || exists {
		return "", err
	}
	b := make([]byte, 32)
	rand.Read(b)
	token := base64.RawURLEncoding.EncodeToString(b)
	s.installer.mu.Lock()
	s.installer.hash = sha256.Sum256([]byte(token))
	s.installer.expires = time.Now().Add(InstallerTokenTTL)
	s.installer.mu.Unlock()
	return token, nil
}

// claimInstallerToken reports whether token is the live installer token
// and no other install is running; on true the caller must call
// releaseInstallerToken. Both sides are hashed first, so the comparison is
// constant-time and of equal lengths whatever was presented.
func (s *Server) claimInstallerToken(token string) bool {
	got := sha256.Sum256([]byte(token))
	s.installer.mu.Lock()
	defer s.installer.mu.Unlock()
	if s.installer.expires.IsZero() || time.Now().After(s.installer.expires) {
		return false
	}
	if subtle.ConstantTimeCompare(got[:], s.installer.hash[:]) != 1 || s.installer.busy {
		return false
	}
	s.installer.busy = true
	return true
}

// releaseInstallerToken ends an install; spend forgets the token, so the
// link works only once (a refused form, e.g. a short password, keeps it).
func (s *Server) releaseInstallerToken(spend bool) {
	s.installer.mu.Lock()
	s.installer.busy = false
	if spend {
		s.installer.hash = [sha256.Size]byte{}
		s.installer.expires = time.Time{}
	}
	s.installer.mu.Unlock()
}

// install creates the first superuser: POST /api/installer with
// {token, email, password, passwordConfirm}. It answers 204; the page then
// signs in with the password like any superuser.
func (s *Server) install(w http.ResponseWriter, r *http.Request) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	token, _ := body["token"].(string)
	if token == "" || !s.claimInstallerToken(token) {
		return forbidden("The installer link is invalid or has expired; restart the server for a new one, or create a superuser with `plinth superuser upsert`.")
	}
	c := s.store.Schema().Lookup(superusersID)
	su := &record.Caller{Auth: schema.NewRecord(c)} // acts as a superuser
	data := map[string]any{"verified": true}
	for _, k := range []string{"email", "password", "passwordConfirm"} {
		if v, ok := body[k]; ok {
			data[k] = v
		}
	}
	err = s.store.Tx(r.Context(), func(tx *store.Tx) error {
		// Checked inside the write transaction, so that two installs (or
		// an install racing `plinth superuser upsert`) cannot both pass on
		// SQLite, whose transactions take the single writer.
		page, err := tx.List(r.Context(), store.ListQuery{Collection: c, Page: 1, PerPage: 1, SkipTotal: true})
		if err != nil {
			return err
		}
		if len(page.Items) > 0 {
			return errNoInstall
		}
		_, err = s.records.Create(r.Context(), tx, su, c, data)
		return err
	})
	if errors.Is(err, errNoInstall) {
		s.releaseInstallerToken(true)
		return forbidden("A superuser already exists: sign in instead.")
	}
	s.releaseInstallerToken(err == nil)
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
