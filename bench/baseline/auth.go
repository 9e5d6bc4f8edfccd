package main

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// tokenTTL is the lifetime of issued auth tokens (PocketBase's default).
const tokenTTL = 7 * 24 * time.Hour

// colKind says how a users column is rendered in JSON.
type colKind int

const (
	kindText colKind = iota
	kindBool
	kindNumber
	kindJSON
)

// usersTable describes the users auth collection, whose schema belongs to
// Plinth; the baseline reads its columns at start-up instead of assuming them.
type usersTable struct {
	id      string
	secret  string // per-process signing secret, combined with each tokenKey
	columns []string
	kinds   []colKind
	selects string // quoted column list
}

// authUser is a loaded user: the JSON record plus the private columns.
type authUser struct {
	id       string
	record   map[string]any
	password string
	tokenKey string
}

func loadUsersTable(ctx context.Context, st *store, id string) (*usersTable, error) {
	rows, err := st.read.QueryContext(ctx, `SELECT * FROM "users" LIMIT 0`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	u := &usersTable{id: id}
	var secret [32]byte
	rand.Read(secret[:])
	u.secret = hex.EncodeToString(secret[:])
	quoted := make([]string, 0, len(types))
	have := map[string]bool{}
	for _, t := range types {
		name, dbType := t.Name(), strings.ToUpper(t.DatabaseTypeName())
		kind := kindText
		switch {
		case strings.Contains(dbType, "BOOL"):
			kind = kindBool
		case strings.Contains(dbType, "JSON"):
			kind = kindJSON
		case strings.Contains(dbType, "REAL"), strings.Contains(dbType, "FLOAT"),
			strings.Contains(dbType, "DOUBLE"), strings.Contains(dbType, "NUMERIC"), strings.Contains(dbType, "INT"):
			kind = kindNumber
		}
		u.columns = append(u.columns, name)
		u.kinds = append(u.kinds, kind)
		quoted = append(quoted, quoteIdent(name))
		have[name] = true
	}
	for _, need := range []string{"id", "email", "password", "tokenKey"} {
		if !have[need] {
			return nil, fmt.Errorf("users table has no %q column", need)
		}
	}
	u.selects = strings.Join(quoted, ",")
	return u, nil
}

// load reads one user by a unique column ("id" or "email").
func (u *usersTable) load(ctx context.Context, st *store, column, value string) (*authUser, error) {
	vals := make([]any, len(u.columns))
	ptrs := make([]any, len(u.columns))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	err := st.read.QueryRowContext(ctx, st.rebind("SELECT "+u.selects+` FROM "users" WHERE `+quoteIdent(column)+" = ?"), value).Scan(ptrs...)
	if err != nil {
		return nil, err
	}
	au := &authUser{record: make(map[string]any, len(u.columns)+2)}
	au.record["collectionId"] = u.id
	au.record["collectionName"] = "users"
	for i, name := range u.columns {
		v := vals[i]
		if b, ok := v.([]byte); ok {
			v = string(b)
		}
		switch name {
		case "password":
			au.password, _ = v.(string)
			continue
		case "tokenKey":
			au.tokenKey, _ = v.(string)
			continue
		}
		switch u.kinds[i] {
		case kindBool:
			switch x := v.(type) {
			case int64:
				v = x != 0
			case nil:
				v = false
			}
		case kindJSON:
			if s, ok := v.(string); ok && s != "" {
				v = json.RawMessage(s)
			}
		case kindText:
			if v == nil {
				v = ""
			}
		}
		au.record[name] = v
	}
	au.id, _ = au.record["id"].(string)
	return au, nil
}

// sign issues an HS256 JWT for user, keyed by its tokenKey and the secret.
func (u *usersTable) sign(au *authUser) (string, error) {
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	claims, err := json.Marshal(map[string]any{
		"id": au.id, "type": "auth", "collectionId": u.id, "refreshable": true,
		"exp": time.Now().Add(tokenTTL).Unix(),
	})
	if err != nil {
		return "", err
	}
	unsigned := header + "." + base64.RawURLEncoding.EncodeToString(claims)
	return unsigned + "." + u.mac(unsigned, au.tokenKey), nil
}

func (u *usersTable) mac(unsigned, tokenKey string) string {
	m := hmac.New(sha256.New, []byte(tokenKey+u.secret))
	m.Write([]byte(unsigned))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

var errBadToken = newAPIError(http.StatusUnauthorized, "The request requires valid record authorization token.", nil)

// authenticate verifies an Authorization header value and loads its user.
func (u *usersTable) authenticate(ctx context.Context, st *store, header string) (*authUser, error) {
	token := strings.TrimPrefix(header, "Bearer ")
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, errBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, errBadToken
	}
	var claims struct {
		ID           string `json:"id"`
		Type         string `json:"type"`
		CollectionID string `json:"collectionId"`
		Exp          int64  `json:"exp"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil || claims.Type != "auth" ||
		claims.CollectionID != u.id || claims.Exp < time.Now().Unix() {
		return nil, errBadToken
	}
	au, err := u.load(ctx, st, "id", claims.ID)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, errBadToken
		}
		return nil, err
	}
	if !hmac.Equal([]byte(parts[2]), []byte(u.mac(parts[0]+"."+parts[1], au.tokenKey))) {
		return nil, errBadToken
	}
	return au, nil
}

// authResponse is PocketBase's auth success body.
type authResponse struct {
	Token  string         `json:"token"`
	Record map[string]any `json:"record"`
}

func (s *server) authUsers(r *http.Request) (*usersTable, error) {
	if s.users == nil || r.PathValue("c") != "users" {
		return nil, errNotFound
	}
	return s.users, nil
}

func (s *server) authWithPassword(w http.ResponseWriter, r *http.Request) error {
	u, err := s.authUsers(r)
	if err != nil {
		return err
	}
	var body struct {
		Identity string `json:"identity"`
		Password string `json:"password"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	failed := newAPIError(http.StatusBadRequest, "Failed to authenticate.", nil)
	au, err := u.load(r.Context(), s.st, "email", body.Identity)
	if errors.Is(err, sql.ErrNoRows) {
		return failed
	}
	if err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword([]byte(au.password), []byte(body.Password)) != nil {
		return failed
	}
	token, err := u.sign(au)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, authResponse{Token: token, Record: au.record})
}

func (s *server) authRefresh(w http.ResponseWriter, r *http.Request) error {
	u, err := s.authUsers(r)
	if err != nil {
		return err
	}
	au, err := u.authenticate(r.Context(), s.st, r.Header.Get("Authorization"))
	if err != nil {
		return err
	}
	token, err := u.sign(au)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, authResponse{Token: token, Record: au.record})
}
