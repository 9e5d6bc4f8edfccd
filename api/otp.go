package api

import (
	"net/http"

	"github.com/plinthdev/plinth/authflow"
)

func (s *Server) requestOTP(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authCollection(r)
	if err != nil {
		return err
	}
	if err := authflow.OTPCheckEnabled(c); err != nil {
		return err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	id, err := s.sys.auth.RequestOTP(r.Context(), c, bodyString(body, "email"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"otpId": id})
	return nil
}

func (s *Server) authWithOTP(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authCollection(r)
	if err != nil {
		return err
	}
	if err := authflow.OTPCheckEnabled(c); err != nil {
		return err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	res, err := s.sys.auth.OTPLogin(r.Context(), s.caller(r, body), c, bodyString(body, "otpId"), bodyString(body, "password"), s.authClient(r, body))
	return s.writeAuthResult(w, r, res, err)
}
