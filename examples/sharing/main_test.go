package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/examples/internal/e2e"
	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/store"
)

type rec struct {
	ID        string `json:"id"`
	File      string `json:"file"`
	Token     string `json:"token"`
	ExpiresAt string `json:"expiresAt"`
}

func TestSharing(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		app, err := newApp(ctx, plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, BcryptCost: 4, DisableRateLimits: true}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(app.Handler())
		t.Cleanup(func() { srv.Close(); app.Close() })
		c := e2e.New(t, srv)
		ann, annTok := c.SignUp("ann@example.com")
		_, bobTok := c.SignUp("bob@example.com")
		get := func(path, token string) (int, []byte, http.Header) {
			t.Helper()
			req, _ := http.NewRequest("GET", srv.URL+path, nil)
			if token != "" {
				req.Header.Set("Authorization", token)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			data, _ := io.ReadAll(res.Body)
			return res.StatusCode, data, res.Header
		}

		// Ann uploads a document (multipart, as the SDK sends files).
		content := []byte("quarterly numbers: 42\n")
		var body bytes.Buffer
		mw := multipart.NewWriter(&body)
		mw.WriteField("title", "Q3 report")
		mw.WriteField("owner", ann)
		fw, _ := mw.CreateFormFile("file", "report.txt")
		fw.Write(content)
		mw.Close()
		req, _ := http.NewRequest("POST", srv.URL+"/api/collections/documents/records", &body)
		req.Header.Set("Content-Type", mw.FormDataContentType())
		req.Header.Set("Authorization", annTok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var doc rec
		json.NewDecoder(res.Body).Decode(&doc)
		res.Body.Close()
		if res.StatusCode != 200 || doc.File == "" {
			t.Fatalf("upload: %d %+v", res.StatusCode, doc)
		}

		// The file is protected: only with the owner's file token.
		fileURL := "/api/files/documents/" + doc.ID + "/" + doc.File
		if status, _, _ := get(fileURL, ""); status < 400 {
			t.Errorf("the protected file without a token: %d", status)
		}
		fileToken := func(token string) string {
			var ft struct{ Token string }
			c.Call("POST", "/api/files/token", token, nil, 200, &ft)
			return ft.Token
		}
		if status, data, _ := get(fileURL+"?token="+fileToken(annTok), ""); status != 200 || !bytes.Equal(data, content) {
			t.Errorf("ann's download: %d %q", status, data)
		}
		if status, _, _ := get(fileURL+"?token="+fileToken(bobTok), ""); status < 400 {
			t.Errorf("bob's download with his own token: %d", status)
		}
		c.Call("GET", "/api/collections/documents/records/"+doc.ID, bobTok, nil, 404, nil)

		// Share links: only the owner makes them, the token is drawn by
		// the hook, the expiry is bounded.
		in := func(d time.Duration) string { return time.Now().UTC().Add(d).Format(dateLayout) }
		var share rec
		c.Call("POST", "/api/collections/shares/records", annTok, map[string]any{"document": doc.ID, "expiresAt": in(time.Hour)}, 200, &share)
		if len(share.Token) != 32 {
			t.Fatalf("share %+v", share)
		}
		c.Call("POST", "/api/collections/shares/records", bobTok, map[string]any{"document": doc.ID, "expiresAt": in(time.Hour)}, 400, nil)
		c.Call("POST", "/api/collections/shares/records", annTok, map[string]any{"document": doc.ID, "expiresAt": in(time.Hour), "token": "mine"}, 400, nil)
		c.Call("POST", "/api/collections/shares/records", annTok, map[string]any{"document": doc.ID, "expiresAt": in(-time.Minute)}, 400, nil)
		c.Call("POST", "/api/collections/shares/records", annTok, map[string]any{"document": doc.ID, "expiresAt": in(30 * 24 * time.Hour)}, 400, nil)
		var p e2e.Page[rec]
		c.Call("GET", "/api/collections/shares/records", bobTok, nil, 200, &p)
		if p.TotalItems != 0 {
			t.Errorf("bob lists %d of ann's shares", p.TotalItems)
		}

		// Anyone with the link downloads the file, until it expires.
		status, data, h := get("/share/"+share.Token, "")
		if status != 200 || !bytes.Equal(data, content) || h.Get("Content-Disposition") == "" {
			t.Errorf("shared download: %d %q %v", status, data, h)
		}
		if status, _, _ := get("/share/"+share.Token+"x", ""); status != 404 {
			t.Errorf("a wrong token: %d", status)
		}
		err = app.Store().Tx(ctx, func(tx *store.Tx) error {
			_, err := app.Records().Update(ctx, tx, record.SystemCaller(), app.Store().Schema().Lookup("shares"), share.ID, map[string]any{"expiresAt": in(-time.Second)})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if status, _, _ := get("/share/"+share.Token, ""); status != http.StatusGone {
			t.Errorf("an expired link: %d", status)
		}
		// Revoking: deleting the share kills the link.
		var live rec
		c.Call("POST", "/api/collections/shares/records", annTok, map[string]any{"document": doc.ID, "expiresAt": in(time.Hour)}, 200, &live)
		c.Call("DELETE", "/api/collections/shares/records/"+live.ID, bobTok, nil, 404, nil)
		c.Call("DELETE", "/api/collections/shares/records/"+live.ID, annTok, nil, 204, nil)
		if status, _, _ := get("/share/"+live.Token, ""); status != 404 {
			t.Errorf("a revoked link: %d", status)
		}
	})
}
