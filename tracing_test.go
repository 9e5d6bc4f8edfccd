package plinth_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/internal/testenv"
)

// otlpReceiver is an in-process OTLP/HTTP collector keeping the spans it
// is sent.
type otlpReceiver struct {
	mu    sync.Mutex
	spans []*tracepb.Span
}

func (o *otlpReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/traces" {
		http.NotFound(w, r)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		body = zr
	}
	data, _ := io.ReadAll(body)
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(data, &req); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	o.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			o.spans = append(o.spans, ss.Spans...)
		}
	}
	o.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Write(out)
}

// TestTracing: with an OTLP endpoint set, each request is a span named by
// its route, its database work spans under it (statements recorded
// without their values), the trace id comes back in X-Trace-Id and is in
// the request log, and a caller's traceparent is continued.
func TestTracing(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		rcv := &otlpReceiver{}
		collector := httptest.NewServer(rcv)
		defer collector.Close()
		app, err := plinth.New(ctx, plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, BcryptCost: 4, OTLPEndpoint: collector.URL}, nil)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(app.Handler())
		defer srv.Close()
		if err := app.UpsertSuperuser(ctx, "admin@example.com", "secret-pass-1"); err != nil {
			t.Fatal(err)
		}
		res, err := http.Post(srv.URL+"/api/collections/users/records", "application/json",
			strings.NewReader(`{"email":"ann@example.com","password":"secret-ann-1","passwordConfirm":"secret-ann-1"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		traceID := res.Header.Get("X-Trace-Id")
		if res.StatusCode != 200 || len(traceID) != 32 {
			t.Fatalf("create: %d, X-Trace-Id %q", res.StatusCode, traceID)
		}
		// A caller's trace is continued.
		req, _ := http.NewRequest("GET", srv.URL+"/api/collections/users/records?filter=email='x'", nil)
		req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
		res2, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res2.Body.Close()
		if got := res2.Header.Get("X-Trace-Id"); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Errorf("the caller's trace was not continued: %q", got)
		}
		// The request log has the trace id (written in batches: poll).
		tok := struct{ Token string }{}
		res3, err := http.Post(srv.URL+"/api/collections/_superusers/auth-with-password", "application/json",
			strings.NewReader(`{"identity":"admin@example.com","password":"secret-pass-1"}`))
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(res3.Body).Decode(&tok)
		res3.Body.Close()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			req, _ := http.NewRequest("GET", srv.URL+"/api/logs?perPage=100", nil)
			req.Header.Set("Authorization", tok.Token)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			data, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if strings.Contains(string(data), `"traceId":"`+traceID+`"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the request log lacks trace %s: %.600s", traceID, data)
			}
		}
		// Close flushes the spans.
		srv.Close()
		app.Close()

		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		var request *tracepb.Span
		for _, s := range rcv.spans {
			if hex.EncodeToString(s.TraceId) == traceID && len(s.ParentSpanId) == 0 {
				request = s
			}
		}
		if request == nil {
			t.Fatalf("no request span of trace %s among %d spans", traceID, len(rcv.spans))
		}
		if request.Name != "POST /api/collections/{collection}/records" {
			t.Errorf("request span named %q", request.Name)
		}
		var db []string
		for _, s := range rcv.spans {
			if !bytes.Equal(s.TraceId, request.TraceId) || len(s.ParentSpanId) == 0 {
				continue
			}
			db = append(db, s.Name)
			for _, a := range s.Attributes {
				if a.Key == "db.statement" && strings.Contains(a.Value.GetStringValue(), "ann@example.com") {
					t.Errorf("a statement span holds a value: %s", a.Value.GetStringValue())
				}
			}
		}
		joined := strings.Join(db, " ")
		if !strings.Contains(joined, "db.transaction") || !strings.Contains(joined, "db.exec") {
			t.Errorf("database spans under the request: %v", db)
		}
		var continued bool
		for _, s := range rcv.spans {
			if hex.EncodeToString(s.TraceId) == "4bf92f3577b34da6a3ce929d0e0e4736" && hex.EncodeToString(s.ParentSpanId) == "00f067aa0ba902b7" {
				continued = true
			}
		}
		if !continued {
			t.Error("no span under the caller's parent span")
		}
	})
}
