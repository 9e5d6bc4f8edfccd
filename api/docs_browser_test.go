package api_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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
		ctx, problems := startChromium(t, browser)
		ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
		defer cancelTimeout()
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
		if p := problems(); len(p) > 0 {
			t.Errorf("browser errors or CSP violations on /api/docs:\n%s", strings.Join(p, "\n"))
		}
	})
}
