package api

import (
	"net/http"
)

func (s *Server) enrollTOTP(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authCollection(r)
	if err != nil {
		return err
	}
	e, err := s.sys.auth.EnrollTOTP(r.Context(), s.caller(r, nil), c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"secret": e.Secret, "uri": e.URI, "qr": e.QR})
	return nil
}

func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request) error {
	c, body, err := s.authCollectionBody(w, r)
	if err != nil {
		return err
	}
	codes, err := s.sys.auth.ConfirmTOTP(r.Context(), s.caller(r, body), c, bodyString(body, "code"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"recoveryCodes": codes})
	return nil
}

func (s *Server) authWithTOTP(w http.ResponseWriter, r *http.Request) error {
	c, err := s.authCollection(r)
	if err != nil {
		return err
	}
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	client := s.authClient(r, body)
	if client.MFAID != "" {
		body["mfaId"] = client.MFAID // rules see the mfaId wherever it came from
	}
	res, err := s.sys.auth.TOTPLogin(r.Context(), s.caller(r, body), c, bodyString(body, "code"), client)
	return s.writeAuthResult(w, r, res, err)
}

// deleteTOTP disables TOTP for the authenticated record, given a current
// code or the account password.
func (s *Server) deleteTOTP(w http.ResponseWriter, r *http.Request) error {
	c, body, err := s.authCollectionBody(w, r)
	if err != nil {
		return err
	}
	err = s.sys.auth.DisableTOTP(r.Context(), s.caller(r, body), c, bodyString(body, "code"), bodyString(body, "password"), s.clientIP(r))
	return s.writeNoContent(w, err)
}
