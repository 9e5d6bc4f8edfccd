package main

import (
	"context"
	"database/sql"
	"errors"
	"net/http"
	"strings"
)

// listResult is PocketBase's list envelope.
type listResult struct {
	Page       int    `json:"page"`
	PerPage    int    `json:"perPage"`
	TotalItems int    `json:"totalItems"`
	TotalPages int    `json:"totalPages"`
	Items      []post `json:"items"`
}

// lookup returns the posts-shaped collection named in the URL.
func (s *server) lookup(r *http.Request) (*collection, error) {
	c := s.collections[r.PathValue("c")]
	if c == nil {
		return nil, errNotFound
	}
	return c, nil
}

// ruleClause returns the condition the collection's list/view rule adds.
func (s *server) ruleClause(ctx context.Context, r *http.Request, c *collection, w whereClause) (whereClause, error) {
	if !c.ownerRule {
		return w, nil
	}
	authID := ""
	if s.users != nil && r.Header.Get("Authorization") != "" {
		u, err := s.users.authenticate(ctx, s.st, r.Header.Get("Authorization"))
		if err == nil {
			authID = u.id
		}
	}
	return w.and(`"owner" = ?`, authID), nil
}

func (s *server) list(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := s.lookup(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	page, perPage := pageParams(q.Get("page"), q.Get("perPage"))
	where, err := parseFilter(q.Get("filter"))
	if err != nil {
		return newAPIError(http.StatusBadRequest, "Invalid filter parameters.", err)
	}
	order, err := parseSort(q.Get("sort"))
	if err != nil {
		return newAPIError(http.StatusBadRequest, "Invalid sort parameters.", err)
	}
	if where, err = s.ruleClause(ctx, r, c, where); err != nil {
		return err
	}

	var sb strings.Builder
	sb.WriteString("SELECT " + postColumns + " FROM " + c.table)
	if where.sql != "" {
		sb.WriteString(" WHERE " + where.sql)
	}
	if order == "" {
		order = s.st.defaultOrder()
	}
	sb.WriteString(" ORDER BY " + order)
	sb.WriteString(" LIMIT ? OFFSET ?")
	args := append(append([]any(nil), where.args...), perPage, (page-1)*perPage)

	rows, err := s.st.read.QueryContext(ctx, s.st.rebind(sb.String()), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	res := listResult{Page: page, PerPage: perPage, TotalItems: -1, TotalPages: -1, Items: make([]post, 0, perPage)}
	for rows.Next() {
		p, err := scanPost(rows, c)
		if err != nil {
			return err
		}
		res.Items = append(res.Items, p)
	}
	if err := rows.Err(); err != nil {
		return err
	}

	if skip := q.Get("skipTotal"); skip != "1" && skip != "true" {
		countSQL := "SELECT COUNT(*) FROM " + c.table
		if where.sql != "" {
			countSQL += " WHERE " + where.sql
		}
		if err := s.st.read.QueryRowContext(ctx, s.st.rebind(countSQL), where.args...).Scan(&res.TotalItems); err != nil {
			return err
		}
		res.TotalPages = (res.TotalItems + perPage - 1) / perPage
	}
	return writeJSON(w, http.StatusOK, res)
}

func (s *server) view(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := s.lookup(r)
	if err != nil {
		return err
	}
	where, err := s.ruleClause(ctx, r, c, whereClause{sql: `"id" = ?`, args: []any{r.PathValue("id")}})
	if err != nil {
		return err
	}
	row := s.st.read.QueryRowContext(ctx, s.st.rebind("SELECT "+postColumns+" FROM "+c.table+" WHERE "+where.sql), where.args...)
	p, err := scanPost(row, c)
	if errors.Is(err, sql.ErrNoRows) {
		return errNotFound
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

// execer is satisfied by *sql.DB and *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// insertPost validates in and inserts it into c through ex.
func (s *server) insertPost(ctx context.Context, ex execer, c *collection, in postInput) (post, error) {
	p := post{CollectionID: c.id, CollectionName: c.name}
	if errs := in.apply(&p); errs != nil {
		return p, &apiError{Status: http.StatusBadRequest, Message: "Failed to create record.", Data: errs}
	}
	p.ID = newID()
	if in.ID != nil && *in.ID != "" {
		p.ID = *in.ID
	}
	if err := s.checkOwner(ctx, ex, p.Owner); err != nil {
		return p, err
	}
	p.Created = nowText()
	p.Updated = p.Created
	_, err := ex.ExecContext(ctx, s.st.rebind("INSERT INTO "+c.table+" ("+postColumns+") VALUES (?,?,?,?,?,?,?,?,?)"),
		p.ID, p.Title, p.Score, p.Published, p.Status, string(p.Meta), p.Owner, p.Created, p.Updated)
	return p, err
}

// checkOwner validates the owner relation the way a relation field must: the
// referenced user has to exist.
func (s *server) checkOwner(ctx context.Context, ex execer, owner string) error {
	if owner == "" || s.users == nil {
		return nil
	}
	var one int
	err := ex.QueryRowContext(ctx, s.st.rebind(`SELECT 1 FROM "users" WHERE "id" = ?`), owner).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return &apiError{Status: http.StatusBadRequest, Message: "Failed to create record.",
			Data: map[string]fieldError{"owner": {Code: "validation_missing_rel_records", Message: "Failed to find all relation records with the provided ids."}}}
	}
	return err
}

func (s *server) create(w http.ResponseWriter, r *http.Request) error {
	c, err := s.lookup(r)
	if err != nil {
		return err
	}
	var in postInput
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	p, err := s.insertPost(r.Context(), s.st.write, c, in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

// updatePost loads, merges, validates and saves one record inside tx.
func (s *server) updatePost(ctx context.Context, tx *sql.Tx, c *collection, id string, in postInput) (post, error) {
	row := tx.QueryRowContext(ctx, s.st.rebind("SELECT "+postColumns+" FROM "+c.table+` WHERE "id" = ?`), id)
	p, err := scanPost(row, c)
	if errors.Is(err, sql.ErrNoRows) {
		return p, errNotFound
	}
	if err != nil {
		return p, err
	}
	in.ID = nil
	if errs := in.apply(&p); errs != nil {
		return p, &apiError{Status: http.StatusBadRequest, Message: "Failed to update record.", Data: errs}
	}
	if in.Owner != nil {
		if err := s.checkOwner(ctx, tx, p.Owner); err != nil {
			return p, err
		}
	}
	p.Updated = nowText()
	_, err = tx.ExecContext(ctx, s.st.rebind("UPDATE "+c.table+
		` SET "title"=?, "score"=?, "published"=?, "status"=?, "meta"=?, "owner"=?, "updated"=? WHERE "id"=?`),
		p.Title, p.Score, p.Published, p.Status, string(p.Meta), p.Owner, p.Updated, p.ID)
	return p, err
}

func (s *server) update(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := s.lookup(r)
	if err != nil {
		return err
	}
	var in postInput
	if err := decodeBody(r, &in); err != nil {
		return err
	}
	tx, err := s.st.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	p, err := s.updatePost(ctx, tx, c, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, p)
}

// batchRequest is one entry of POST /api/batch.
type batchRequest struct {
	Method string    `json:"method"`
	URL    string    `json:"url"`
	Body   postInput `json:"body"`
}

// batchResponse is one entry of the batch reply.
type batchResponse struct {
	Status int  `json:"status"`
	Body   post `json:"body"`
}

// batch runs creates and updates of posts-shaped collections in one
// transaction, as PocketBase does.
func (s *server) batch(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	var body struct {
		Requests []batchRequest `json:"requests"`
	}
	if err := decodeBody(r, &body); err != nil {
		return err
	}
	if len(body.Requests) == 0 || len(body.Requests) > 50 {
		return newAPIError(http.StatusBadRequest, "Invalid batch request data.", nil)
	}
	tx, err := s.st.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	out := make([]batchResponse, 0, len(body.Requests))
	for _, br := range body.Requests {
		path, _, _ := strings.Cut(br.URL, "?")
		rest, ok := strings.CutPrefix(path, "/api/collections/")
		if !ok {
			return newAPIError(http.StatusBadRequest, "Unsupported batch action.", nil)
		}
		name, rest, _ := strings.Cut(rest, "/")
		c := s.collections[name]
		if c == nil {
			return errNotFound
		}
		var p post
		switch {
		case br.Method == http.MethodPost && rest == "records":
			p, err = s.insertPost(ctx, tx, c, br.Body)
		case br.Method == http.MethodPatch && strings.HasPrefix(rest, "records/"):
			p, err = s.updatePost(ctx, tx, c, strings.TrimPrefix(rest, "records/"), br.Body)
		default:
			return newAPIError(http.StatusBadRequest, "Unsupported batch action.", nil)
		}
		if err != nil {
			return err
		}
		out = append(out, batchResponse{Status: http.StatusOK, Body: p})
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}
