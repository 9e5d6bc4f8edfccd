package api

import (
	"net/http"
	"time"

	"github.com/plinthdev/plinth/authflow"
)

// seconds converts a duration in seconds, def when it is not positive.
func seconds(n int64, def time.Duration) time.Duration {
	if n <= 0 {
		return def
	}
	return time.Duration(n) * time.Second
}

// writeNoContent answers 204 unless err is set.
func (s *Server) writeNoContent(w http.ResponseWriter, err error) error {
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) requestVerification(w http.ResponseWriter, r *http.Request) error {
	c, body, err := s.authCollectionBody(w, r)
	if err != nil {
		return err
	}
	// The same answer whether or not the address has an account.
	return s.writeNoContent(w, s.sys.auth.RequestVerification(r.Context(), c, bodyString(body, "email")))
}

func (s *Server) confirmVerification(w http.ResponseWriter, r *http.Request) error {
	c, body, err := s.authCollectionBody(w, r)
	if err != nil {
		return err
	}
	return s.writeNoContent(w, s.sys.auth.ConfirmVerification(r.Context(), c, bodyString(body, "token")))
}

func (s *Server) requestPasswordReset(w http.ResponseWriter, r *http.Request) error {
	c, body, err := s.authCollectionBody(w, r)
	if err != nil {
		return err
	}
	return s.writeNoContent(w, s.sys.auth.RequestPasswordReset(r.Context(), c, bodyString(body, "email")))
}

func (s *Server) confirmPasswordReset(w http.ResponseWriter, r *http.Request) error {
	c, body, err := s.authCollectionBody(w, r)
	if err != nil {
		return err
	}
	return s.writeNoContent(w, s.sys.auth.ConfirmPasswordReset(r.Context(), c,
		bodyString(body, "token"), bodyString(body, "password"), bodyString(body, "passwordConfirm"), s.clientIP(r)))
}

func (s *Server) requestEmailChange(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authCollection(r)
	if err != nil {
		return err
	}
	caller := s.caller(r, nil)
	if err := authflow.SelfAuth(caller, c); err != nil {
		return err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	return s.writeNoContent(w, s.sys.auth.RequestEmailChange(r.Context(), caller, c, bodyString(body, "newEmail")))
}

func (s *Server) confirmEmailChange(w http.ResponseWriter, r *http.Request) error {
	c, body, err := s.authCollectionBody(w, r)
	if err != nil {
		return err
	}
	return s.writeNoContent(w, s.sys.auth.ConfirmEmailChange(r.Context(), c, bodyString(body, "token"), bodyString(body, "password")))
}

// impersonate issues a non-refreshable auth token for any record of an
// auth collection (superusers only). duration is in seconds; 0 uses the
// collection's auth token duration.
func (s *Server) impersonate(w http.ResponseWriter, r *http.Request) error {
	c, body, err := s.authCollectionBody(w, r)
	if err != nil {
		return err
	}
	d := time.Duration(-1) // refused by the service
	switch v := body["duration"].(type) {
	case nil:
		d = 0
	case float64:
		if v >= 0 && v <= 10*365*24*3600 && v == float64(int64(v)) {
			d = time.Duration(v) * time.Second
		}
	}
	res, err := s.sys.auth.Impersonate(r.Context(), c, r.PathValue("id"), d)
	return s.writeAuthResult(w, r, res, err)
}
