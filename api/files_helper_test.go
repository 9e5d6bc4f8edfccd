package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plinthdev/plinth/files"
)

// part is one part of a multipart body: a file when name is set, else a
// plain form value.
type part struct {
	field, name, ctype string
	data               []byte
}

func filePart(field, name string, data []byte) part {
	return part{field: field, name: name, data: data, ctype: "application/octet-stream"}
}

func valuePart(field, value string) part { return part{field: field, data: []byte(value)} }

// jsonPart is the SDK's @jsonPayload value.
func jsonPart(v any) part {
	b, _ := json.Marshal(v)
	return part{field: "@jsonPayload", data: b}
}

func multipartBody(t *testing.T, parts []part) (contentType string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.name == "" {
			w, err = mw.CreateFormField(p.field)
		} else {
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name=%q; filename=%q`, p.field, p.name))
			h.Set("Content-Type", p.ctype)
			w, err = mw.CreatePart(h)
		}
		if err != nil {
			t.Fatal(err)
		}
		w.Write(p.data)
	}
	mw.Close()
	return mw.FormDataContentType(), buf.Bytes()
}

// multipart sends a multipart/form-data request.
func (ta *testApp) multipart(method, path, token string, parts ...part) (int, []byte) {
	ta.t.Helper()
	ct, body := multipartBody(ta.t, parts)
	req, err := http.NewRequest(method, ta.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		ta.t.Fatal(err)
	}
	req.Header.Set("Content-Type", ct)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		ta.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}

// mustMultipart is multipart requiring status; it decodes a JSON object.
func (ta *testApp) mustMultipart(method, path, token string, status int, parts ...part) map[string]any {
	ta.t.Helper()
	got, data := ta.multipart(method, path, token, parts...)
	if got != status {
		ta.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, got, status, data)
	}
	var out map[string]any
	json.Unmarshal(data, &out)
	return out
}

// fetch sends a bodiless request with header pairs (key, value, ...).
func (ta *testApp) fetch(method, path string, hdr ...string) (*http.Response, []byte) {
	ta.t.Helper()
	req, err := http.NewRequest(method, ta.srv.URL+path, nil)
	if err != nil {
		ta.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		ta.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res, data
}

// keys lists the stored keys under prefix, sorted.
func (ta *testApp) keys(prefix string) []string {
	ta.t.Helper()
	var out []string
	err := ta.app.Files().List(context.Background(), prefix, func(a files.Attributes) error {
		out = append(out, a.Key)
		return nil
	})
	if err != nil {
		ta.t.Fatalf("list %q: %v", prefix, err)
	}
	slices.Sort(out)
	return out
}

// stored reports whether the record's file exists in the storage.
func (ta *testApp) stored(collectionID, recordID, name string) bool {
	ta.t.Helper()
	key, err := files.Key(collectionID, recordID, name)
	if err != nil {
		ta.t.Fatal(err)
	}
	ok, err := ta.app.Files().Exists(context.Background(), key)
	if err != nil {
		ta.t.Fatal(err)
	}
	return ok
}

// waitGone waits briefly for keys under prefix to disappear (they are
// deleted after the commit, before the response, so this is a guard
// against slow storages rather than a race).
func (ta *testApp) waitGone(prefix string) {
	ta.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := ta.keys(prefix)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			ta.t.Fatalf("files under %s not deleted: %v", prefix, left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testImage is a w×h image with a gradient, so crops differ.
func testImage(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	return img
}

func pngBytes(w, h int) []byte {
	var buf bytes.Buffer
	png.Encode(&buf, testImage(w, h))
	return buf.Bytes()
}

func jpegBytes(w, h int) []byte {
	var buf bytes.Buffer
	jpeg.Encode(&buf, testImage(w, h), &jpeg.Options{Quality: 90})
	return buf.Bytes()
}

// imageSize decodes the dimensions of an encoded image.
func imageSize(t *testing.T, data []byte) (w, h int, format string) {
	t.Helper()
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode image (%d bytes, %q...): %v", len(data), truncateBytes(data, 16), err)
	}
	return cfg.Width, cfg.Height, format
}

func truncateBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// strs reads a record value as a list of strings.
func strs(v any) []string {
	switch x := v.(type) {
	case string:
		if x == "" {
			return nil
		}
		return []string{x}
	case []any:
		out := make([]string, 0, len(x))
		for _, s := range x {
			out = append(out, fmt.Sprint(s))
		}
		return out
	}
	return nil
}

// errorCode returns data.<field>.code of an error body.
func errorCode(body []byte, field string) string {
	var e struct {
		Data map[string]struct {
			Code string `json:"code"`
		} `json:"data"`
	}
	json.Unmarshal(body, &e)
	return e.Data[field].Code
}

func hasAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
