package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/internal/testenv"
)

// browserPage is served next to the API, so the WebSocket is same-origin
// as a real app's would be. It authenticates with an "auth" message
// (browsers cannot set headers on a WebSocket), subscribes, pings, and
// lists every event it receives as a div.event; #state says how far it got.
const browserPage = `<!doctype html>
<html><head><meta charset="utf-8"><title>realtime</title></head>
<body>
<div id="state">loading</div>
<div id="events"></div>
<script>
const token = new URLSearchParams(location.search).get("token");
const state = (s) => { document.getElementById("state").textContent = s; };
const ws = new WebSocket("ws://" + location.host + "/api/realtime/ws");
const send = (m) => ws.send(JSON.stringify(m));
ws.onmessage = (msg) => {
  const m = JSON.parse(msg.data);
  if (m.type === "connect") { state("connected"); send({type: "auth", token: token, id: 1}); }
  else if (m.type === "ack" && m.id === 1) send({type: "subscribe", subscriptions: ["notes/*"], id: 2});
  else if (m.type === "ack" && m.id === 2) send({type: "ping", id: 3});
  else if (m.type === "pong" && m.id === 3) state("subscribed");
  else if (m.type === "event") {
    const d = document.createElement("div");
    d.className = "event";
    d.textContent = m.topic + " " + m.data.action + " " + m.data.record.text;
    document.getElementById("events").appendChild(d);
  } else if (m.type === "error") state("error " + m.status + " " + m.message);
};
ws.onclose = (e) => state("closed " + e.code);
ws.onerror = () => state("websocket error");
</script>
</body></html>`

// chromiumPath finds a Chromium or Chrome binary: PLINTH_CHROMIUM, then
// the usual names on PATH.
func chromiumPath() string {
	if p := os.Getenv("PLINTH_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestRealtimeBrowserWebSocket opens the WebSocket from a page in headless
// Chromium: the page authenticates as ann, subscribes, and shows the event
// of ann's note, and not bob's (rules apply as over SSE).
func TestRealtimeBrowserWebSocket(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	browser := chromiumPath()
	if browser == "" {
		t.Skip("Chromium not found (apt-get install chromium, or set PLINTH_CHROMIUM); skipping the browser WebSocket test")
	}
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupBrowserApp(t, b)
		ann, annTok := ta.signUp("ann@example.com")
		bob, bobTok := ta.signUp("bob@example.com")
		owner := "owner = @request.auth.id"
		ta.createCollection(map[string]any{"name": "notes", "listRule": owner, "viewRule": owner, "createRule": "",
			"fields": []map[string]any{{"name": "text", "type": "text"}, {"name": "owner", "type": "relation", "collectionId": "users", "maxSelect": 1}}})

		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.ExecPath(browser),
			chromedp.NoSandbox, // tests often run as root, where Chromium's sandbox refuses to start
			chromedp.Flag("disable-dev-shm-usage", true),
		)
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		defer cancelAlloc()
		ctx, cancelCtx := chromedp.NewContext(actx)
		defer cancelCtx()
		// The first call starts the browser; it must not carry a timeout,
		// which would end the browser with it, so a watchdog bounds it.
		started := make(chan error, 1)
		go func() { started <- chromedp.Do(ctx) }()
		select {
		case err := <-started:
			if err != nil {
				t.Fatalf("start %s: %v", browser, err)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("%s did not start within 60s", browser)
		}
		tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()

		if err := chromedp.Do(tctx, chromedp.Navigate(ta.srv.URL+"/browser-test.html?token="+annTok)); err != nil {
			t.Fatalf("navigate: %v", err)
		}
		state, err := chromedp.Run(tctx, chromedp.Poll[string](
			`(() => { const s = document.getElementById("state").textContent; return s !== "loading" && s !== "connected" && s; })()`,
			chromedp.WithPollingTimeout(20*time.Second)))
		if err != nil || state != "subscribed" {
			t.Fatalf("page did not subscribe: state %q, err %v", state, err)
		}

		ta.mustJSON("POST", "/api/collections/notes/records", map[string]any{"text": "bob's", "owner": bob}, bobTok, 200, nil)
		ta.mustJSON("POST", "/api/collections/notes/records", map[string]any{"text": "ann's", "owner": ann}, annTok, 200, nil)
		const shown = `Array.from(document.querySelectorAll("div.event")).map(d => d.textContent).join(" | ")`
		if _, err := chromedp.Run(tctx, chromedp.Poll[string](shown, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("no event shown: %v", err)
		}
		time.Sleep(300 * time.Millisecond) // room for a wrong extra event
		events, err := chromedp.Run(tctx, chromedp.Evaluate[string](shown))
		if err != nil {
			t.Fatal(err)
		}
		if events != "notes/* create ann's" {
			t.Fatalf("page shows %q, want only ann's create", events)
		}
	})
}

// setupBrowserApp is setup with the test page served by the same server as
// the API.
func setupBrowserApp(t *testing.T, b testenv.Backend) *testApp {
	t.Helper()
	ctx := context.Background()
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(tlog{t, logs}, &slog.HandlerOptions{Level: slog.LevelError}))
	app, err := plinth.New(ctx, plinth.Config{DataDir: b.Dir, DatabaseURL: b.URL, BcryptCost: 4}, log)
	if err != nil {
		t.Fatalf("new app on %s: %v", b.Name, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /browser-test.html", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, browserPage)
	})
	mux.Handle("/", app.Handler())
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { srv.Close(); app.Close() })
	if err := app.UpsertSuperuser(ctx, "admin@example.com", "secret-pass-1"); err != nil {
		t.Fatal(err)
	}
	ta := &testApp{t: t, srv: srv, app: app, logs: logs}
	var auth struct{ Token string }
	ta.mustJSON("POST", "/api/collections/_superusers/auth-with-password", map[string]any{"identity": "admin@example.com", "password": "secret-pass-1"}, "", 200, &auth)
	ta.su = auth.Token
	return ta
}
