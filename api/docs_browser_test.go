package api_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/plinthdev/plinth/internal/testenv"
)

// TestAPIDocsBrowser opens /api/docs in headless Chromium: the vendored
// Redoc renders the live OpenAPI document (a collection made a moment ago
// has its operations) under the page's CSP, with no console error or CSP
// violation. The screenshot lands under PLINTH_SCREENSHOTS.
func TestAPIDocsBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	browser := chromiumPath()
	if browser == "" {
		if os.Getenv("PLINTH_REQUIRE_SERVICES") == "1" {
			t.Fatal("Chromium is required (PLINTH_REQUIRE_SERVICES=1) but not found")
		}
		t.Skip("Chromium not found; skipping the API docs browser test")
	}
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setup(t, b)
		ta.createCollection(map[string]any{"name": "gadgets", "listRule": "", "fields": []map[string]any{{"name": "label", "type": "text"}}})
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox,
			chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
		actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		defer cancelAlloc()
		ctx, cancelCtx := chromedp.NewContext(actx)
		defer cancelCtx()
		ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
		defer cancelTimeout()
		var mu sync.Mutex
		var problems []string
		chromedp.Listen(ctx, func(ev any) {
			mu.Lock()
			defer mu.Unlock()
			switch e := ev.(type) {
			case *runtime.EventExceptionThrown:
				msg := e.ExceptionDetails.Text
				if e.ExceptionDetails.Exception != nil {
					msg += " " + e.ExceptionDetails.Exception.Description
				}
				problems = append(problems, "exception: "+msg)
			case *cdplog.EventEntryAdded:
				if e.Entry.Source == cdplog.EntrySourceSecurity || strings.Contains(e.Entry.Text, "Content Security Policy") {
					problems = append(problems, "security: "+e.Entry.Text+" "+e.Entry.URL)
				}
			case *runtime.EventConsoleAPICalled:
				if e.Type == runtime.ConsoleAPICalledTypeError {
					var parts []string
					for _, a := range e.Args {
						parts = append(parts, string(a.Value)+a.Description)
					}
					problems = append(problems, "console: "+strings.Join(parts, " "))
				}
			}
		})
		if err := chromedp.Do(ctx, chromedp.Navigate(ta.srv.URL+"/api/docs")); err != nil {
			t.Fatal(err)
		}
		_, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.body.innerText.includes("Generated from the live collections") && /\bgadgets\b/.test(document.body.innerText)`, chromedp.WithPollingTimeout(60*time.Second)))
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil {
			t.Fatalf("the docs page did not render the document (gadgets in its menu): %v\n%.2000s", err, text)
		}
		for _, want := range []string{"Plinth API", "Generated from the live collections"} {
			if !strings.Contains(text, want) {
				t.Errorf("the docs page lacks %q", want)
			}
		}
		if dir := os.Getenv("PLINTH_SCREENSHOTS"); dir != "" {
			if buf, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
				os.MkdirAll(dir, 0o755)
				os.WriteFile(filepath.Join(dir, "api-docs-"+b.Name+".png"), buf, 0o644)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		if len(problems) > 0 {
			t.Errorf("browser errors or CSP violations on /api/docs:\n%s", strings.Join(problems, "\n"))
		}
	})
}
