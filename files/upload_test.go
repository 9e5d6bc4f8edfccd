package files_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"testing"

	"github.com/plinthdev/plinth/files"
	"github.com/plinthdev/plinth/schema"
)

// multipartFiles builds and parses a real multipart request.
func multipartFiles(t *testing.T, parts ...[3]string) map[string][]*multipart.FileHeader {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts { // field, filename, content
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="`+p[0]+`"; filename="`+p[1]+`"`)
		h.Set("Content-Type", "image/jpeg") // the client's claim, ignored
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, p[2])
	}
	mw.Close()
	req := httptest.NewRequest(http.MethodPost, "/", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if err := req.ParseMultipartForm(1 << 20); err != nil {
		t.Fatal(err)
	}
	return req.MultipartForm.File
}

func TestNewUploadSniffs(t *testing.T) {
	t.Parallel()
	fh := multipartFiles(t,
		[3]string{"doc", "evil.jpg", "<!DOCTYPE html><html><script>alert(1)</script></html>"},
		[3]string{"doc", "notes", "just some text\n"},
		[3]string{"doc", "doc.pdf", "%PDF-1.4\n%âãÏÓ\n"},
	)["doc"]
	want := []struct{ ct, ext string }{
		{"text/html; charset=utf-8", ".jpg"},  // the client's extension stays, the type does not
		{"text/plain; charset=utf-8", ".txt"}, // no extension: taken from the content
		{"application/pdf", ".pdf"},
	}
	for i, h := range fh {
		u, err := files.NewUpload("doc", h)
		if err != nil {
			t.Fatal(err)
		}
		if u.ContentType != want[i].ct || !strings.HasSuffix(u.Name, want[i].ext) || u.Size != h.Size || u.Field != "doc" || u.OriginalName != h.Filename {
			t.Errorf("upload %d: %+v", i, u)
		}
		// The content can be read more than once (validate, then store).
		for range 2 {
			rc, err := u.Open()
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(rc)
			rc.Close()
			if int64(len(got)) != u.Size {
				t.Errorf("read %d bytes of %d", len(got), u.Size)
			}
		}
	}
}

func TestUploadValidate(t *testing.T) {
	t.Parallel()
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	pdf := []byte("%PDF-1.7\n")
	for _, tt := range []struct {
		name string
		data []byte
		opts *schema.FileOptions
		code string
	}{
		{"ok", png, &schema.FileOptions{MaxSelect: 1}, ""},
		{"nil options", png, nil, ""},
		{"size limit", png, &schema.FileOptions{MaxSize: 10}, files.CodeFileSizeLimit},
		{"size equal to limit", png, &schema.FileOptions{MaxSize: int64(len(png))}, ""},
		{"default limit", bytes.Repeat([]byte("a"), schema.DefaultFileMaxSize+1), &schema.FileOptions{}, files.CodeFileSizeLimit},
		{"mime allowed", png, &schema.FileOptions{MimeTypes: []string{"image/jpeg", "image/png"}}, ""},
		{"mime refused", png, &schema.FileOptions{MimeTypes: []string{"image/jpeg"}}, files.CodeInvalidMIMEType},
		{"mime alias", pdf, &schema.FileOptions{MimeTypes: []string{"application/x-pdf"}}, ""},
		{"text with charset", []byte("hello"), &schema.FileOptions{MimeTypes: []string{"text/plain"}}, ""},
		{"html is not text/plain", []byte("<html><body>x</body></html>"), &schema.FileOptions{MimeTypes: []string{"text/plain"}}, files.CodeInvalidMIMEType},
	} {
		u := files.NewUploadBytes("f", "x.bin", tt.data)
		ferr := u.Validate(tt.opts)
		switch {
		case tt.code == "" && ferr != nil:
			t.Errorf("%s: %v", tt.name, ferr)
		case tt.code != "" && (ferr == nil || ferr.Code != tt.code || ferr.Message == ""):
			t.Errorf("%s: got %+v, want code %s", tt.name, ferr, tt.code)
		}
	}
}

func TestUploadPut(t *testing.T) {
	t.Parallel()
	st, err := files.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u := files.NewUploadBytes("avatar", "Me.PNG", []byte("\x89PNG\r\n\x1a\nrest"))
	key, err := u.Key("users", "abc")
	if err != nil {
		t.Fatal(err)
	}
	if err := u.Put(context.Background(), st, key); err != nil {
		t.Fatal(err)
	}
	a, err := st.Attributes(context.Background(), key)
	if err != nil || a.ContentType != "image/png" || a.Size != u.Size {
		t.Errorf("stored %+v, %v", a, err)
	}
	if _, err := files.NewUploadFunc("f", "x", 1, func() (io.ReadCloser, error) { return nil, errors.New("gone") }); err == nil {
		t.Error("NewUploadFunc ignored an open error")
	}
}
