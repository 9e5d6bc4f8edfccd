package plinth_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/jobs"
)

// TestWebhooksAPI drives webhooks, jobs and crons through the REST API on
// both databases: record changes by REST and batch reach a
// receiver, signed, with the old record on updates.
func TestWebhooksAPI(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		h := newHookApp(t, b, false)
		if err := h.app.StartJobs(context.Background()); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var got []map[string]any
		rc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body map[string]any
			data, _ := io.ReadAll(r.Body)
			json.Unmarshal(data, &body)
			mu.Lock()
			got = append(got, body)
			mu.Unlock()
		}))
		defer rc.Close()
		h.call("GET", "/api/webhooks", "", "", 401, nil)
		// Loopback is refused until the setting allows it.
		h.call("PATCH", "/api/settings", `{"webhooks":{"allowPrivateNetworks":true}}`, h.su, 200, nil)
		var wh struct{ ID, Secret string }
		h.call("POST", "/api/webhooks", `{"name":"r","url":"`+rc.URL+`","collections":["posts"],"events":["create","update"]}`, h.su, 200, &wh)
		if !strings.HasPrefix(wh.Secret, "whsec_") {
			t.Fatalf("secret %q", wh.Secret)
		}
		h.call("POST", "/api/webhooks", `{"url":"ftp://x","collections":["posts"]}`, h.su, 400, nil)
		h.call("GET", "/api/webhooks/nope", "", h.su, 404, nil)
		var rec struct{ ID string }
		h.call("POST", "/api/collections/posts/records", `{"title":"rest"}`, "", 200, &rec)
		h.call("POST", "/api/batch", `{"requests":[{"method":"POST","url":"/api/collections/posts/records","body":{"title":"batch"}}]}`, h.su, 200, nil)
		h.call("PATCH", "/api/collections/posts/records/"+rec.ID, `{"title":"rest2"}`, "", 200, nil)
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			mu.Lock()
			n := len(got)
			mu.Unlock()
			if n >= 3 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the receiver got %d events, want 3", n)
			}
		}
		types := map[string]int{}
		mu.Lock()
		for _, e := range got {
			types[e["type"].(string)]++
			if e["type"] == "record.updated" {
				data := e["data"].(map[string]any)
				if data["oldRecord"].(map[string]any)["title"] != "rest" || data["record"].(map[string]any)["title"] != "rest2" {
					t.Errorf("update event %v", e)
				}
			}
		}
		mu.Unlock()
		if types["record.created"] != 2 || types["record.updated"] != 1 {
			t.Errorf("events %v", types)
		}
		var ds struct{ Items []struct{ ID, Status string } }
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			h.call("GET", "/api/webhooks/"+wh.ID+"/deliveries", "", h.su, 200, &ds)
			if len(ds.Items) == 3 {
				break
			}
		}
		if len(ds.Items) != 3 {
			t.Fatalf("deliveries %+v", ds)
		}
		h.call("POST", "/api/webhooks/"+wh.ID+"/deliveries/"+ds.Items[0].ID+"/retry", "", h.su, 200, nil)
		h.call("POST", "/api/webhooks/"+wh.ID+"/deliveries/nope/retry", "", h.su, 404, nil)
		var list struct {
			Items []jobs.JobInfo
		}
		h.call("GET", "/api/jobs?kind=plinth.webhook", "", h.su, 200, &list)
		if len(list.Items) < 3 {
			t.Fatalf("jobs %+v", list)
		}
		h.call("GET", "/api/jobs?state=bogus", "", h.su, 400, nil)
		id := strconv.FormatInt(list.Items[0].ID, 10)
		h.call("GET", "/api/jobs/"+id, "", h.su, 200, nil)
		h.call("POST", "/api/jobs/"+id+"/cancel", "", h.su, 200, nil)
		h.call("POST", "/api/jobs/"+id+"/retry", "", h.su, 200, nil)
		h.call("GET", "/api/jobs/999999", "", h.su, 404, nil)
		var crons []struct{ ID, Expression string }
		h.call("GET", "/api/crons", "", h.su, 200, &crons)
		ids := map[string]string{}
		for _, c := range crons {
			ids[c.ID] = c.Expression
		}
		if ids["__pbLogsCleanup__"] != "0 * * * *" || ids["__plinthFileSweep__"] != "0 */6 * * *" {
			t.Errorf("built-in crons %v", crons)
		}
		h.call("POST", "/api/crons/__pbLogsCleanup__", "", h.su, 204, nil)
		h.call("POST", "/api/crons/nope", "", h.su, 404, nil)
		metrics := string(h.call("GET", "/metrics", "", h.su, 200, nil))
		if !strings.Contains(metrics, `plinth_jobs{state="available"}`) || !strings.Contains(metrics, "plinth_jobs_runs_total") {
			t.Error("no queue metrics")
		}
		h.call("PATCH", "/api/webhooks/"+wh.ID, `{"active":false}`, h.su, 200, nil)
		h.call("DELETE", "/api/webhooks/"+wh.ID, "", h.su, 204, nil)
		h.call("DELETE", "/api/webhooks/"+wh.ID, "", h.su, 404, nil)
	})
}

// TestMailThroughQueue: with SMTP on and the server down, an auth email
// is not lost: it waits in the queue as a plinth.mail job being retried.
func TestMailThroughQueue(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		h := newHookApp(t, b, false)
		if err := h.app.StartJobs(context.Background()); err != nil {
			t.Fatal(err)
		}
		h.call("PATCH", "/api/settings", `{"smtp":{"enabled":true,"host":"127.0.0.1","port":1}}`, h.su, 200, nil)
		h.call("POST", "/api/collections/users/records", `{"email":"u@example.com","password":"secret-pass-1","passwordConfirm":"secret-pass-1"}`, h.su, 200, nil)
		h.call("POST", "/api/collections/users/request-password-reset", `{"email":"u@example.com"}`, "", 204, nil)
		var list struct{ Items []jobs.JobInfo }
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			h.call("GET", "/api/jobs?kind=plinth.mail", "", h.su, 200, &list)
			if len(list.Items) == 1 && len(list.Items[0].Errors) > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d mail jobs, none failed yet", len(list.Items))
			}
		}
		// Retried: waiting for its next attempt, or already due again.
		if j := list.Items[0]; (j.State != "retryable" && j.State != "available" && j.State != "running") || j.MaxAttempts != 20 || !strings.Contains(string(j.Args), "u@example.com") {
			t.Errorf("mail job %d: state %s, max attempts %d, errors %v", j.ID, j.State, j.MaxAttempts, j.Errors)
		}
		if n := h.app.DevMailbox().Len(); n != 0 {
			t.Errorf("%d emails went to the dev mailbox", n)
		}
	})
}
