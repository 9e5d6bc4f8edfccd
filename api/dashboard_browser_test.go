package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/plinthdev/plinth/internal/testenv"
	"github.com/plinthdev/plinth/webhooks"
)

// findJS finds visible elements the way a person (or a screen reader)
// names them: form controls by their label's text (or aria-label), buttons
// and links by their accessible name, headings by text. It never uses CSS
// classes, so the test also checks that every control is labelled.
const findJS = `window.__find = (kind, name) => {
  const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
  const visible = (e) => e.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true}) && e.getClientRects().length > 0;
  let out = [];
  if (kind === 'label') {
    for (const l of document.querySelectorAll('label')) {
      if (norm(l.textContent) !== name) continue;
      const c = l.control || (l.id && document.querySelector('[aria-labelledby~="' + l.id + '"]'));
      if (c) out.push(c);
    }
    for (const e of document.querySelectorAll('input[aria-label], select[aria-label], textarea[aria-label]')) {
      if (norm(e.getAttribute('aria-label')) === name) out.push(e);
    }
  } else if (kind === 'button') {
    for (const b of document.querySelectorAll('button, a[href], [role=button], summary')) {
      if (norm(b.getAttribute('aria-label') || b.textContent) === name) out.push(b);
    }
  } else if (kind === 'heading') {
    for (const h of document.querySelectorAll('h1, h2, h3')) if (norm(h.textContent) === name) out.push(h);
  }
  // A region still loading (a code editor replacing its textarea) is skipped.
  return out.filter((e) => visible(e) && !e.closest('[aria-busy=true]'));
}`

// dash drives the dashboard in one browser tab.
type dash struct {
	t      *testing.T
	ctx    context.Context
	shots  string
	n      int
	tagSeq int
}

// run runs chromedp actions, failing the test with what was being done.
func (d *dash) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		d.shot("failed-" + strings.ReplaceAll(what, " ", "-"))
		d.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates js, with __find defined, in the page.
func eval[T any](d *dash, what, js string) T {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T]("("+findJS+", "+js+")"))
	if err != nil {
		d.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// poll waits until js (with __find defined) is truthy.
func (d *dash) poll(what, js string) error {
	ctx, cancel := context.WithTimeout(d.ctx, 20*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool]("("+findJS+", "+js+")", chromedp.WithPollingTimeout(15*time.Second)))
	return err
}

// find waits for the nth (from 0; -1 the last) visible element of kind
// named name, marks it with a data-t attribute and returns a selector.
func (d *dash) find(kind, name string, nth int) chromedp.CSS {
	d.t.Helper()
	d.tagSeq++
	tag := fmt.Sprint(d.tagSeq)
	js := fmt.Sprintf(`(() => { const els = __find(%q, %q); const i = %d < 0 ? els.length - 1 : %d;
	  if (!els[i]) return false; els[i].setAttribute('data-t', %q); return true; })()`, kind, name, nth, nth, tag)
	if err := d.poll("find", js); err != nil {
		d.shot("missing-" + kind)
		d.t.Fatalf("no %s %q on the page: %v\npage text:\n%s", kind, name, err, d.text())
	}
	return chromedp.CSS(fmt.Sprintf(`[data-t="%s"]`, tag))
}

func (d *dash) text() string {
	ctx, cancel := context.WithTimeout(d.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	return s
}

func (d *dash) click(kind, name string) {
	d.t.Helper()
	d.run("click "+name, chromedp.Click(d.find(kind, name, 0)))
}

// fill types text into the nth control labelled label, replacing its value.
func (d *dash) fill(label, text string, nth ...int) {
	d.t.Helper()
	i := 0
	if len(nth) > 0 {
		i = nth[0]
	}
	sel := d.find("label", label, i)
	editable := eval[bool](d, "clear "+label, fmt.Sprintf(`(() => {
	  const e = document.querySelector(%q);
	  e.focus();
	  if (e.isContentEditable) return true;
	  const proto = e.tagName === 'TEXTAREA' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
	  Object.getOwnPropertyDescriptor(proto, 'value').set.call(e, '');
	  e.dispatchEvent(new Event('input', {bubbles: true}));
	  return false; })()`, string(sel)))
	if editable { // a CodeMirror editor: select all with the keyboard first
		d.run("select all in "+label, chromedp.KeyEvent("a", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
	}
	// Typed with key events into the focused control, as a person would.
	d.run("fill "+label, chromedp.KeyEvent(text))
}

// choose picks an option of the nth select labelled label.
func (d *dash) choose(label, value string, nth int) {
	d.t.Helper()
	sel := d.find("label", label, nth)
	eval[chromedp.Void](d, "choose "+label, fmt.Sprintf(`(() => { const e = document.querySelector(%q);
	  e.value = %q; e.dispatchEvent(new Event('change', {bubbles: true})); })()`, string(sel), value))
}

// waitText waits until the page's text contains s.
func (d *dash) waitText(s string) {
	d.t.Helper()
	if err := d.poll("text", fmt.Sprintf(`document.body.innerText.includes(%q)`, s)); err != nil {
		d.shot("missing-text")
		d.t.Fatalf("page never showed %q: %v\npage text:\n%s", s, err, d.text())
	}
}

// waitOption waits for an autocompletion option labelled label.
func (d *dash) waitOption(label string) {
	d.t.Helper()
	if err := d.poll("option", fmt.Sprintf(`[...document.querySelectorAll('[role=listbox] [role=option]')].some(o => o.textContent.trim() === %q)`, label)); err != nil {
		d.shot("missing-option")
		d.t.Fatalf("no completion %q: %v\n%s", label, err, d.text())
	}
}

// shot saves a screenshot of the whole page as NN-name.png.
func (d *dash) shot(name string) {
	d.n++
	ctx, cancel := context.WithTimeout(d.ctx, 10*time.Second)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		d.t.Logf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(d.shots, fmt.Sprintf("%02d-%s.png", d.n, name))
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		d.t.Logf("screenshot %s: %v", name, err)
	}
}

// TestDashboardBrowser drives the dashboard in headless Chromium on both
// databases, as a new user would: install the first superuser from the
// installer link, sign out and in, create a collection with six field
// types, add a record with a file upload, edit it, change a rule (a wrong
// rule is refused by the server inline) and check its effect as a user,
// then bulk-delete. Each step saves a screenshot under PLINTH_SCREENSHOTS
// (default: a temporary directory).
func TestDashboardBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	browser := chromiumPath()
	if browser == "" {
		if os.Getenv("PLINTH_REQUIRE_SERVICES") == "1" {
			t.Fatal("Chromium is required (PLINTH_REQUIRE_SERVICES=1) but not found: apt-get install chromium, or set PLINTH_CHROMIUM")
		}
		t.Skip("Chromium not found (apt-get install chromium, or set PLINTH_CHROMIUM); skipping the dashboard browser test")
	}
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		shots := os.Getenv("PLINTH_SCREENSHOTS")
		if shots == "" {
			shots = t.TempDir()
		}
		shots = filepath.Join(shots, "dashboard-"+b.Name)
		os.RemoveAll(shots) // screenshots of an earlier run
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshots in %s", shots)
		ta := setupFresh(t, b)
		token, err := ta.app.InstallerToken(context.Background())
		if err != nil || token == "" {
			t.Fatalf("installer token %q: %v", token, err)
		}
		upload := filepath.Join(t.TempDir(), "cover.png")
		writePNG(t, upload)

		// Console errors and CSP violations fail the test at the end.
		ctx, problems := startChromium(t, browser)
		d := &dash{t: t, ctx: ctx, shots: shots}

		// 1. The installer link creates the first superuser and signs in.
		d.run("open installer", chromedp.Navigate(ta.srv.URL+"/_/#/install/"+token))
		d.find("heading", "Create the first superuser", 0)
		d.fill("Email", "owner@example.com")
		d.fill("Password", "owner-pass-123")
		d.fill("Confirm password", "owner-pass-124")
		d.click("button", "Create superuser and sign in")
		d.waitText("Values don't match.")
		d.shot("installer-mismatch")
		d.fill("Confirm password", "owner-pass-123")
		d.click("button", "Create superuser and sign in")
		d.find("heading", "Welcome", 0)
		hash := eval[string](d, "location", `location.hash`)
		if strings.Contains(hash, token) {
			t.Errorf("the spent token stays in the address bar: %q", hash)
		}
		d.shot("installed")
		st, _ := ta.do("POST", "/api/installer", map[string]any{"token": token, "email": "x@example.com", "password": "another-pass-1", "passwordConfirm": "another-pass-1"}, "")
		if st != 403 {
			t.Errorf("installer token reused: status %d", st)
		}

		// 2. Sign out, then sign in with the password.
		d.click("button", "Sign out")
		d.find("heading", "Sign in to Plinth", 0)
		d.fill("Email", "owner@example.com")
		d.fill("Password", "wrong-password")
		d.click("button", "Sign in")
		d.waitText("Wrong email or password.")
		d.fill("Password", "owner-pass-123")
		d.shot("sign-in")
		d.click("button", "Sign in")
		d.find("heading", "Welcome", 0)
		stored := eval[string](d, "auth store", `localStorage.getItem('pocketbase_auth') || ''`)
		if !strings.Contains(stored, `"token"`) {
			t.Errorf("the token is not in the SDK's auth store: %q", stored)
		}

		// 3. A collection with six field types (plus created/updated).
		d.click("button", "New collection")
		d.find("heading", "New collection", 0)
		d.fill("Name", "posts")
		addField := func(typ, name string) {
			d.choose("New field type", typ, 0)
			d.click("button", "Add field")
			// The new field is the last one before created and updated.
			n := eval[int](d, "count fields", `__find('label', 'Field name').length`)
			d.fill("Field name", name, n-3)
		}
		addField("text", "title")
		addField("number", "score")
		addField("bool", "published")
		addField("select", "status")
		d.fill("Choices", "draft, live")
		addField("file", "cover")
		addField("json", "meta")
		addField("relation", "author")
		d.choose("Related collection", "_pb_users_auth_", 0)
		d.shot("new-collection")
		d.click("button", "Create collection")
		d.find("heading", "posts base collection", 0)
		var coll map[string]any
		ta.su = ta.superuserToken("owner@example.com", "owner-pass-123")
		ta.mustJSON("GET", "/api/collections/posts", nil, ta.su, 200, &coll)
		var types []string
		for _, f := range coll["fields"].([]any) {
			f := f.(map[string]any)
			types = append(types, f["name"].(string)+":"+f["type"].(string))
		}
		want := "id:text title:text score:number published:bool status:select cover:file meta:json author:relation created:autodate updated:autodate"
		if strings.Join(types, " ") != want {
			t.Errorf("collection fields\n got %s\nwant %s", strings.Join(types, " "), want)
		}

		// 4. A record with a file upload.
		annID, ann := ta.signUp("ann@example.com")
		d.click("button", "New record")
		d.find("heading", "New posts record", 0)
		d.fill("title", "Hello from the browser")
		d.fill("score", "42")
		d.click("label", "published")
		d.choose("status", "live", 0)
		d.run("upload", chromedp.SetUploadFiles(d.find("label", "Upload cover", 0), []string{upload}))
		d.waitText("cover.png (new")
		d.fill("meta", `{"tags": ["a", "b"]}`)
		d.fill("Search users", "ann")
		d.click("button", "Choose ann@example.com")
		d.shot("new-record")
		d.click("button", "Create")
		d.waitText("Hello from the browser")
		// The file column shows the upload as a loaded thumbnail.
		if err := d.poll("thumbnail", `[...document.querySelectorAll('table img')].some(i => i.alt.startsWith('cover') && i.complete && i.naturalWidth > 0)`); err != nil {
			t.Errorf("no cover thumbnail in the table: %v", err)
		}
		d.shot("record-created")
		var list struct {
			Items []map[string]any `json:"items"`
		}
		ta.mustJSON("GET", "/api/collections/posts/records", nil, ta.su, 200, &list)
		if len(list.Items) != 1 {
			t.Fatalf("%d records, want 1", len(list.Items))
		}
		rec := list.Items[0]
		if rec["score"] != 42.0 || rec["published"] != true || rec["status"] != "live" || !strings.HasPrefix(fmt.Sprint(rec["cover"]), "cover") || rec["author"] == "" {
			t.Errorf("record as saved: %v", rec)
		}
		if m, _ := json.Marshal(rec["meta"]); string(m) != `{"tags":["a","b"]}` {
			t.Errorf("meta saved as %s", m)
		}

		// A record created elsewhere shows up live (realtime).
		ta.create("posts", map[string]any{"title": "Draft from the API", "published": false})
		d.waitText("Draft from the API")

		// The filter box: the server's error shows under it; a good filter
		// narrows the page. Sorting by a column header.
		d.fill("Filter", "scor > 1")
		d.click("button", "Apply filter")
		d.waitText(`scor`)
		if err := d.poll("filter error", `[...document.querySelectorAll('[role=alert]')].some(e => e.textContent.includes('Invalid filter'))`); err != nil {
			t.Errorf("the filter error is not shown: %v\n%s", err, d.text())
		}
		d.shot("filter-error")
		d.fill("Filter", "score > 1")
		d.click("button", "Apply filter")
		if err := d.poll("filtered", `!document.body.innerText.includes('Draft from the API') && document.body.innerText.includes('1 record)')`); err != nil {
			t.Errorf("the filter score > 1 did not narrow the table: %v\n%s", err, d.text())
		}
		d.click("button", "Clear")
		d.waitText("Draft from the API")
		d.click("button", "score")
		if err := d.poll("sorted", `document.querySelector('th[aria-sort=ascending]')?.innerText.includes('score') &&
			document.querySelector('tbody tr')?.innerText.includes('Draft from the API')`); err != nil {
			t.Errorf("sorting by score did not put the 0 first: %v\n%s", err, d.text())
		}

		// 5. Edit the first record.
		d.click("button", "Open "+rec["id"].(string))
		d.find("heading", "Edit posts record", 0)
		d.fill("title", "Hello, edited")
		d.click("button", "Save")
		d.waitText("Hello, edited")
		d.shot("record-edited")

		// 6. Rules: a wrong rule is refused by the server, inline; a right
		// one takes effect for users.
		st, body := ta.do("GET", "/api/collections/posts/records", nil, ann)
		if st != 403 && !(st == 200 && strings.Contains(string(body), `"totalItems":0`)) {
			t.Errorf("superusers-only list answered a user %d %s", st, body)
		}
		d.click("button", "Edit collection")
		d.find("heading", "Edit collection posts", 0)
		d.click("label", "List/search rule: superusers only")
		d.fill("List/search rule", "publishd = true")
		d.click("button", "Save changes")
		d.waitText(`unknown field "publishd"`)
		ruleErr := eval[string](d, "rule error", `[...document.querySelectorAll('[role=alert]')].map(e => e.textContent).join(' | ')`)
		if !strings.Contains(ruleErr, "publishd") {
			t.Errorf("the rule error is not shown inline: %q", ruleErr)
		}
		d.shot("rule-refused")
		// The rule editor completes @request.* (and fields, @collection.*).
		d.fill("List/search rule", "@request.au")
		d.waitOption("@request.auth.id")
		d.shot("rule-autocomplete")
		d.fill("List/search rule", "published = true")
		d.waitText("The server accepts this rule.")
		d.click("button", "Save changes")
		d.find("heading", "posts base collection", 0)
		var userList struct {
			Items []map[string]any `json:"items"`
		}
		ta.mustJSON("GET", "/api/collections/posts/records", nil, ann, 200, &userList)
		if len(userList.Items) != 1 || userList.Items[0]["title"] != "Hello, edited" {
			t.Errorf("with the rule, ann lists %v; want only the published record", userList.Items)
		}
		// Preview as user: the editor lists the collection as ann (the
		// superuser impersonates her) with the saved rule.
		var annTotal struct {
			TotalItems int `json:"totalItems"`
		}
		ta.mustJSON("GET", "/api/collections/posts/records", nil, ann, 200, &annTotal)
		d.click("button", "Edit collection")
		d.find("heading", "Edit collection posts", 0)
		d.choose("Auth collection", "users", 0)
		d.fill("Find user by email", "ann")
		d.click("button", "Preview as ann@example.com")
		d.click("button", "Preview")
		d.waitText(fmt.Sprintf("ann@example.com may list %d record", annTotal.TotalItems))
		d.waitText("Hello, edited")
		if strings.Contains(eval[string](d, "preview", `document.querySelector('[role=status]')?.innerText || ''`), "Draft from the API") {
			t.Errorf("the preview shows the unpublished record")
		}
		d.shot("rule-preview")

		// 7. An API key: shown once, works, revoked. Settings save. The dev
		// mailbox and schema export pages open.
		d.click("button", "API keys")
		d.find("heading", "API keys", 0)
		d.fill("Key name", "ci")
		d.fill("Scopes", "posts:list")
		d.click("button", "Create key")
		d.waitText("Copy the key of")
		key := eval[string](d, "new key", `__find('label', 'New API key')[0].value`)
		d.shot("api-key")
		if st, body := ta.doHeader("GET", "/api/collections/posts/records", "X-API-Key", key); st != 200 {
			t.Errorf("the new API key lists posts: %d %s", st, body)
		}
		d.click("button", "Done")
		d.click("button", "Revoke ci")
		d.click("button", "Revoke")
		d.waitText("No API keys.")
		d.click("button", "Settings")
		d.fill("Application name", "Acme backend")
		d.click("button", "Save settings")
		d.waitText("Settings saved.")
		var settings struct {
			Meta struct{ AppName string } `json:"meta"`
		}
		ta.mustJSON("GET", "/api/settings", nil, ta.su, 200, &settings)
		if settings.Meta.AppName != "Acme backend" {
			t.Errorf("app name after saving the settings page: %q", settings.Meta.AppName)
		}
		d.shot("settings")
		// SMTP "Send test email": with SMTP off the server delivers to the
		// dev mailbox.
		d.click("button", "Send test email")
		d.find("heading", "Send test email", 0)
		d.choose("Email template", "password-reset", 0)
		d.fill("Send to address", "probe@example.com")
		d.shot("settings-test-email")
		d.click("button", "Send")
		d.waitText("Test email sent to probe@example.com.")
		// The storage test shows the server's answer, whichever it is
		// (here a local folder, which passes; an S3 bucket that refuses
		// shows its error), and never breaks the page.
		st, body = ta.do("POST", "/api/settings/test/s3", map[string]any{"filesystem": "storage"}, ta.su)
		d.click("button", "Test connection")
		if err := d.poll("storage test", `/took a test file|Storage test failed/.test(document.body.innerText)`); err != nil {
			d.shot("missing-storage-test")
			t.Fatalf("the storage test showed nothing: %v\n%s", err, d.text())
		}
		if st == 204 {
			d.waitText("The file storage took a test file, served it back and deleted it.")
		} else {
			var answer struct{ Message string }
			json.Unmarshal(body, &answer)
			d.waitText("Storage test failed: " + answer.Message)
		}
		d.shot("settings-storage-test")
		// A storage that fails (the API's answer stubbed in the page, as
		// an S3 bucket's refusal would come) shows its message as an alert.
		eval[chromedp.Void](d, "stub storage test", `(() => { window.__fetch = window.fetch;
		  window.fetch = (url, init) => String(url).includes('/api/settings/test/s3')
		    ? Promise.resolve(new Response(JSON.stringify({status: 400, message: 'No S3 bucket answered.', data: {}}), {status: 400, headers: {'Content-Type': 'application/json'}}))
		    : window.__fetch(url, init); })()`)
		d.click("button", "Test connection")
		if err := d.poll("storage failure", `[...document.querySelectorAll('[role=alert]')].some((e) => e.textContent === 'Storage test failed: No S3 bucket answered.')`); err != nil {
			t.Errorf("a failed storage test shows no alert: %v\n%s", err, d.text())
		}
		eval[chromedp.Void](d, "unstub fetch", `(() => { window.fetch = window.__fetch; })()`)
		d.shot("settings-storage-failed")

		// 7a. S3 in the settings (files, then backups): a bucket that does
		// not answer is refused with the server's error under Bucket and
		// nothing saved; a reachable one (an in-process fake) is saved, its
		// secret sent but never shown or returned; the storage test reaches
		// it; turned off again for the steps after.
		_, s3URL := newPlainFakeS3(t, "files", "backups")
		s3 := func() (files, backups map[string]any, raw string) {
			t.Helper()
			st, body := ta.do("GET", "/api/settings", nil, ta.su)
			var got struct {
				S3      map[string]any `json:"s3"`
				Backups struct {
					S3 map[string]any `json:"s3"`
				} `json:"backups"`
			}
			if err := json.Unmarshal(body, &got); st != 200 || err != nil {
				t.Fatalf("GET /api/settings: %d %v %s", st, err, body)
			}
			return got.S3, got.Backups.S3, string(body)
		}
		// fieldError waits for a non-empty alert tied to the nth control
		// labelled label, which is marked invalid.
		fieldError := func(label string, nth int) {
			t.Helper()
			if err := d.poll(label+" error", fmt.Sprintf(`(() => { const e = __find('label', %q)[%d];
			  return e?.getAttribute('aria-invalid') === 'true' && [...document.querySelectorAll('[role=alert]')].some((a) => e.getAttribute('aria-describedby')?.split(' ').includes(a.id) && a.textContent.trim() !== ''); })()`, label, nth)); err != nil {
				d.shot("missing-field-error")
				t.Fatalf("no error under %s #%d: %v\n%s", label, nth, err, d.text())
			}
		}
		// saved waits until the page has taken the saved settings back:
		// the secret fields are emptied and no field is marked invalid.
		saved := func(what string) {
			t.Helper()
			if err := d.poll(what, `__find('label', 'Secret').every((e) => e.value === '') && !document.querySelector('[aria-invalid=true]')`); err != nil {
				d.shot("not-saved")
				t.Fatalf("%s: the page shows no save: %v\n%s", what, err, d.text())
			}
		}
		d.click("label", "Use S3-compatible storage")
		d.fill("Endpoint", "http://"+closedPort(t))
		d.fill("Bucket", "files")
		d.fill("Region", "us-east-1")
		d.fill("Access key", "AKIATEST")
		d.fill("Secret", s3Secret)
		d.click("label", "Force path-style addressing")
		d.click("button", "Save settings")
		fieldError("Bucket", 0)
		d.shot("settings-s3-unreachable")
		if files, _, _ := s3(); files["enabled"] != false {
			t.Errorf("a refused S3 bucket was saved: %v", files)
		}
		d.fill("Endpoint", s3URL)
		d.click("button", "Save settings")
		saved("enable S3")
		files, _, raw := s3()
		if files["enabled"] != true || files["bucket"] != "files" || files["endpoint"] != s3URL || files["accessKey"] != "AKIATEST" || files["forcePathStyle"] != true {
			t.Errorf("s3 after saving the page: %v", files)
		}
		if _, ok := files["secret"]; ok || strings.Contains(raw, s3Secret) {
			t.Errorf("the S3 secret is returned: %s", raw)
		}
		if strings.Contains(d.text(), s3Secret) || eval[string](d, "secret field", `__find('label', 'Secret')[0].value`) != "" {
			t.Error("the S3 secret is shown after saving")
		}
		d.click("button", "Test connection")
		d.waitText("The file storage took a test file, served it back and deleted it.")
		d.shot("settings-s3-saved")
		// Backups: the second "Use S3-compatible storage" and the second
		// set of fields; errors come under backups.s3.
		d.run("click backups S3", chromedp.Click(d.find("label", "Use S3-compatible storage", 1)))
		d.fill("Endpoint", "http://"+closedPort(t), 1)
		d.fill("Bucket", "backups", 1)
		d.fill("Region", "us-east-1", 1)
		d.fill("Secret", "backups-secret-2", 1)
		d.run("click backups path style", chromedp.Click(d.find("label", "Force path-style addressing", 1)))
		d.click("button", "Save settings")
		fieldError("Bucket", 1)
		if invalid := eval[bool](d, "files bucket", `__find('label', 'Bucket')[0].getAttribute('aria-invalid') === 'true'`); invalid {
			t.Error("the backups bucket's error shows under the files bucket")
		}
		d.shot("settings-backups-s3-unreachable")
		if _, backups, _ := s3(); backups["enabled"] != false {
			t.Errorf("a refused backups bucket was saved: %v", backups)
		}
		d.fill("Endpoint", s3URL, 1)
		d.click("button", "Save settings")
		saved("enable backups S3")
		if files, backups, raw := s3(); backups["enabled"] != true || backups["bucket"] != "backups" || files["enabled"] != true || strings.Contains(raw, "backups-secret-2") {
			t.Errorf("after saving backups S3: s3 %v, backups.s3 %v", files, backups)
		}
		d.run("test backups storage", chromedp.Click(d.find("button", "Test connection", 1)))
		d.waitText("The backups storage took a test file, served it back and deleted it.")
		d.shot("settings-backups-s3-saved")
		// Both off again: the fields hide, the local folder is back.
		d.run("uncheck backups S3", chromedp.Click(d.find("label", "Use S3-compatible storage", 1)))
		d.click("label", "Use S3-compatible storage")
		d.click("button", "Save settings")
		if err := d.poll("S3 fields hidden", `__find('label', 'Bucket').length === 0`); err != nil {
			t.Errorf("the S3 fields stay shown when S3 is off: %v", err)
		}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			files, backups, _ := s3()
			if files["enabled"] == false && backups["enabled"] == false {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("S3 not turned off by the page: s3 %v, backups.s3 %v", files, backups)
			}
		}
		// The logs step looks for a records list among the latest entries,
		// which the S3 requests above pushed down.
		ta.do("GET", "/api/collections/posts/records", nil, ta.su)

		// 7b. Auth collection options: a wrong OTP length is refused inline;
		// OTP turned on with a new length and duration is saved; an OAuth2
		// provider's secret is write-only (never shown again, kept when
		// left empty); a template's test email goes out.
		d.click("button", "users auth")
		d.find("heading", "users auth collection", 0)
		d.click("button", "Edit collection")
		d.find("heading", "Edit collection users", 0)
		d.click("label", "Enable OTP sign-in (a code sent by email)")
		d.fill("OTP length (digits)", "2")
		d.click("button", "Save changes")
		d.waitText("The OTP length must be between 4 and 32 digits.")
		d.shot("auth-otp-refused")
		d.fill("OTP length (digits)", "6")
		d.fill("OTP duration (seconds)", "300")
		d.click("label", "Enable OAuth2 sign-in")
		d.click("button", "Add provider")
		d.choose("Provider 1 name", "github", 0)
		d.fill("Provider 1 client ID", "gh-client-id")
		d.fill("Provider 1 client secret", "gh-secret-value-123")
		d.choose("Field for the provider's name", "name", 0)
		d.shot("auth-options")
		d.click("button", "Save changes")
		d.find("heading", "users auth collection", 0)
		var users struct {
			OTP struct {
				Enabled  bool  `json:"enabled"`
				Length   int   `json:"length"`
				Duration int64 `json:"duration"`
			} `json:"otp"`
			OAuth2 struct {
				Enabled   bool `json:"enabled"`
				Providers []struct {
					Name, ClientID, ClientSecret string
				} `json:"providers"`
				MappedFields map[string]string `json:"mappedFields"`
			} `json:"oauth2"`
			AuthToken struct{ Duration int64 } `json:"authToken"`
		}
		ta.mustJSON("GET", "/api/collections/users", nil, ta.su, 200, &users)
		if !users.OTP.Enabled || users.OTP.Length != 6 || users.OTP.Duration != 300 {
			t.Errorf("otp as saved: %+v", users.OTP)
		}
		if !users.OAuth2.Enabled || len(users.OAuth2.Providers) != 1 || users.OAuth2.Providers[0].Name != "github" ||
			users.OAuth2.Providers[0].ClientID != "gh-client-id" || users.OAuth2.Providers[0].ClientSecret != "gh-secret-value-123" ||
			users.OAuth2.MappedFields["name"] != "name" {
			t.Errorf("oauth2 as saved: %+v", users.OAuth2)
		}
		if users.AuthToken.Duration != 604800 {
			t.Errorf("the auth token duration changed to %d", users.AuthToken.Duration)
		}
		d.click("button", "Edit collection")
		d.find("heading", "Edit collection users", 0)
		if v := eval[string](d, "secret field", `__find('label', 'Provider 1 client secret')[0].value`); v != "" {
			t.Errorf("the client secret field shows %q", v)
		}
		if eval[bool](d, "secret in page", `document.documentElement.outerHTML.includes('gh-secret-value-123')`) {
			t.Errorf("the client secret is on the page")
		}
		d.waitText("Set; leave empty to keep it.")
		d.fill("Auth token duration (seconds)", "3600")
		d.click("button", "Verification email")
		d.fill("Verification email subject", "Verify your {APP_NAME} account")
		d.click("button", "Send test verification email")
		d.find("heading", "Send test verification email", 0)
		d.fill("Send to address", "probe@example.com")
		d.shot("auth-test-email")
		d.click("button", "Send")
		d.waitText("Test email sent to probe@example.com.")
		d.click("button", "Save changes")
		d.find("heading", "users auth collection", 0)
		var users2 struct {
			OAuth2 struct {
				Providers []struct{ ClientSecret string } `json:"providers"`
			} `json:"oauth2"`
			AuthToken            struct{ Duration int64 } `json:"authToken"`
			VerificationTemplate struct{ Subject string } `json:"verificationTemplate"`
		}
		ta.mustJSON("GET", "/api/collections/users", nil, ta.su, 200, &users2)
		if len(users2.OAuth2.Providers) != 1 || users2.OAuth2.Providers[0].ClientSecret != "gh-secret-value-123" ||
			users2.AuthToken.Duration != 3600 || users2.VerificationTemplate.Subject != "Verify your {APP_NAME} account" {
			t.Errorf("after a second save: %+v", users2)
		}
		d.click("button", "Dev mailbox")
		d.find("heading", "Dev mailbox", 0)
		d.click("button", "Import/export schema")
		d.find("heading", "Import/export schema", 0)
		d.waitText(`"name": "posts"`)

		// 8. Logs: the chart and the table of the requests made so far; a
		// filter (checked live, then applied) narrows it; one entry's detail.
		d.click("button", "Logs")
		d.find("heading", "Logs", 0)
		if err := d.poll("chart", `(() => { const c = document.querySelector('figure canvas');
		  return c && c.width > 0 && /[1-9]\d* entries/.test(document.body.innerText); })()`); err != nil {
			t.Errorf("no requests-per-hour chart: %v\n%s", err, d.text())
		}
		d.waitText("GET /api/collections/posts/records")
		d.shot("logs")
		d.fill("Filter", "data.status >== 400")
		if err := d.poll("log filter error", `[...document.querySelectorAll('[role=alert]')].some(e => e.textContent.includes('Invalid filter'))`); err != nil {
			t.Errorf("a wrong log filter shows no error while typing: %v\n%s", err, d.text())
		}
		d.fill("Filter", "data.status >= 400")
		d.waitText("The server accepts this filter")
		d.click("button", "Apply filter")
		if err := d.poll("log filtered", `(() => { const rows = [...document.querySelectorAll('table[aria-label="Log entries"] tbody tr')];
		  return rows.length > 0 && rows.every(r => Number(r.cells[3].textContent) >= 400); })()`); err != nil {
			t.Errorf("the filter data.status >= 400 did not narrow the log: %v\n%s", err, d.text())
		}
		d.shot("logs-filtered")
		first := eval[string](d, "first log row", `document.querySelector('table[aria-label="Log entries"] tbody tr button').getAttribute('aria-label')`)
		d.click("button", first)
		d.find("heading", "Log entry", 0)
		d.waitText("userAgent")
		id := strings.TrimPrefix(first, "Details of ")
		var entry struct {
			Data struct{ Status int } `json:"data"`
		}
		ta.mustJSON("GET", "/api/logs/"+id, nil, ta.su, 200, &entry)
		if entry.Data.Status < 400 {
			t.Errorf("log entry %s of the filtered table has status %d", id, entry.Data.Status)
		}
		d.shot("log-detail")
		d.click("button", "Close")

		// 8b. Metrics: the page samples /metrics at once and again a second
		// later, so the request rate (which needs two samples) draws without
		// waiting for the 5 s interval; the table shows the latest figures.
		d.click("button", "Metrics")
		d.find("heading", "Metrics", 0)
		const figure = `((title) => [...document.querySelectorAll('figure')].find((f) => f.querySelector('figcaption')?.textContent.startsWith(title)))`
		const summary = `((title) => { const f = ` + figure + `(title); return f ? document.getElementById(f.getAttribute('aria-describedby'))?.textContent || '' : ''; })`
		if err := d.poll("requests chart", `(() => { const f = `+figure+`('Requests per second'); const c = f?.querySelector('canvas');
		  return !!(c && c.width > 0 && Number(`+summary+`('Requests per second').match(/: ([\d.]+) requests\/s/)?.[1]) > 0); })()`); err != nil {
			t.Errorf("the requests chart never drew a rate: %v\n%s", err, d.text())
		}
		if err := d.poll("latency summary", summary+`('Request latency').includes('p50 ')`); err != nil {
			t.Errorf("no latency percentiles: %v\n%s", err, d.text())
		}
		if err := d.poll("db summary", summary+`('Database connections').includes(' in use of ')`); err != nil {
			t.Errorf("no database connections: %v\n%s", err, d.text())
		}
		if err := d.poll("current values", `(() => { const h = __find('heading', 'Current values')[0];
		  const rows = h ? [...document.querySelectorAll('table[aria-labelledby="' + h.id + '"] tbody tr')] : [];
		  const value = (name) => rows.find((r) => r.cells[0].textContent === name)?.cells[1].textContent;
		  return Number(value('Goroutines')) > 0 && /^\d+$/.test(value('Jobs available')); })()`); err != nil {
			t.Errorf("the current values show no goroutines or jobs: %v\n%s", err, d.text())
		}
		if leaked := eval[bool](d, "metrics URL", `performance.getEntriesByType('resource').some((e) => e.name.includes('/metrics?'))`); leaked {
			t.Errorf("/metrics was requested with a query string (the token belongs in a header)")
		}
		d.shot("metrics")

		// 8c. Export the filtered list as CSV and JSON (every matching
		// record, fetched page by page; the download's Blob is read back
		// in the page), then import a CSV: a quoted comma, a JSON cell, and
		// a row the server refuses, reported by its row number.
		d.click("button", "posts base")
		d.find("heading", "posts base collection", 0)
		d.fill("Filter", "score > 1")
		d.click("button", "Apply filter")
		if err := d.poll("filtered", `!document.body.innerText.includes('Draft from the API') && document.body.innerText.includes('1 record)')`); err != nil {
			t.Fatalf("the filter score > 1 did not narrow the table: %v\n%s", err, d.text())
		}
		eval[chromedp.Void](d, "catch blobs", `(() => { window.__blobs = []; window.__texts = [];
		  window.__createObjectURL = URL.createObjectURL;
		  URL.createObjectURL = (b) => { window.__blobs.push(b); b.text().then((t) => window.__texts.push(t)); return window.__createObjectURL.call(URL, b); };
		  window.__click = HTMLAnchorElement.prototype.click;
		  HTMLAnchorElement.prototype.click = function () { window.__downloads = (window.__downloads || []).concat(this.download); }; })()`)
		d.click("button", "Export CSV")
		d.waitText("Exported 1 record as CSV.")
		d.shot("export-csv")
		d.click("button", "Export JSON")
		d.waitText("Exported 1 record as JSON.")
		if err := d.poll("blob texts", `window.__texts.length === 2`); err != nil {
			t.Fatalf("the exports made no downloads: %v", err)
		}
		names := eval[[]string](d, "download names", `window.__downloads || []`)
		exported := eval[[]string](d, "blob texts", `(() => { URL.createObjectURL = window.__createObjectURL; HTMLAnchorElement.prototype.click = window.__click; return window.__texts; })()`)
		if strings.Join(names, ",") != "posts.csv,posts.json" {
			t.Errorf("download names %v", names)
		}
		lines := strings.Split(strings.TrimRight(exported[0], "\r\n"), "\r\n")
		if len(lines) != 2 || lines[0] != "id,title,score,published,status,cover,meta,author,created,updated" ||
			!strings.HasPrefix(lines[1], rec["id"].(string)+`,"Hello, edited",42,true,live,`) || !strings.Contains(lines[1], `,"{""tags"":[""a"",""b""]}",`) {
			t.Errorf("exported CSV:\n%s", exported[0])
		}
		var exportedJSON []map[string]any
		if err := json.Unmarshal([]byte(exported[1]), &exportedJSON); err != nil || len(exportedJSON) != 1 || exportedJSON[0]["title"] != "Hello, edited" {
			t.Errorf("exported JSON (%v):\n%s", err, exported[1])
		}
		d.click("button", "Clear")
		d.waitText("Draft from the API")
		importFile := filepath.Join(t.TempDir(), "posts.csv")
		csvText := "title,score,published,meta,ignored\r\n" +
			"\"Imported, with a comma\",7,true,\"{\"\"k\"\":1}\",x\r\n" +
			"Refused row,not a number,false,,y\r\n" +
			"\"Second \"\"import\"\"\non two lines\",3,false,,z\r\n"
		if err := os.WriteFile(importFile, []byte(csvText), 0o644); err != nil {
			t.Fatal(err)
		}
		d.click("button", "Import CSV")
		d.find("heading", "Import CSV into posts", 0)
		d.run("choose CSV", chromedp.SetUploadFiles(d.find("label", "CSV file", 0), []string{importFile}))
		d.waitText("Columns (3 rows in posts.csv)")
		if v := eval[string](d, "mapping", `__find('label', 'Field for column ignored')[0].value + '|' + __find('label', 'Field for column meta')[0].value`); v != "|meta" {
			t.Errorf("columns mapped as %q, want the unknown column skipped and meta to meta", v)
		}
		d.shot("import-mapping")
		d.click("button", "Import")
		d.waitText("Done: 2 of 3 rows imported, 1 failed.")
		if v := eval[string](d, "progress", `(() => { const p = __find('label', 'Import progress')[0]; return p.value + '/' + p.max; })()`); v != "3/3" {
			t.Errorf("the progress bar ends at %s", v)
		}
		d.waitText("Row 3:")
		d.shot("import-done")
		d.click("button", "Close")
		d.waitText("Imported, with a comma")
		var imported struct {
			Items []map[string]any `json:"items"`
		}
		ta.mustJSON("GET", "/api/collections/posts/records?sort=score&filter="+url.QueryEscape(`title ~ "import"`), nil, ta.su, 200, &imported)
		if len(imported.Items) != 2 || imported.Items[0]["title"] != "Second \"import\"\non two lines" || imported.Items[0]["score"] != 3.0 ||
			imported.Items[1]["title"] != "Imported, with a comma" || imported.Items[1]["published"] != true || fmt.Sprint(imported.Items[1]["meta"]) != "map[k:1]" {
			t.Errorf("imported records: %v", imported.Items)
		}
		d.shot("imported")

		// The records filter box completes field names.
		d.click("button", "posts base")
		d.find("heading", "posts base collection", 0)
		d.fill("Filter", "sco")
		d.waitOption("score")
		d.shot("filter-autocomplete")
		d.run("accept completion", chromedp.KeyEvent("\r"))
		d.run("type rest of filter", chromedp.KeyEvent(" >= 0"))
		d.waitText("The server accepts this filter")

		// 9. Bulk delete both records.
		d.click("label", "Select all on this page")
		d.click("button", "Delete selected")
		d.shot("bulk-delete")
		d.click("button", "Delete")
		d.waitText("No records yet.")
		d.shot("records-deleted")
		ta.mustJSON("GET", "/api/collections/posts/records", nil, ta.su, 200, &list)
		if len(list.Items) != 0 {
			t.Errorf("%d records left after bulk delete", len(list.Items))
		}
		// 10. Webhooks: one pointing at a local receiver is refused as a
		// private target until the setting allows it; a wrong filter is
		// refused inline; the secret shows once; a matching record change
		// is delivered, signed, and a failed delivery can be retried; a
		// webhook can be disabled, enabled and deleted.
		if err := ta.app.StartJobs(context.Background()); err != nil {
			t.Fatalf("start jobs: %v", err)
		}
		type received struct {
			header http.Header
			body   []byte
		}
		var recvMu sync.Mutex
		var got []received
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			recvMu.Lock()
			got = append(got, received{r.Header.Clone(), body})
			recvMu.Unlock()
			io.WriteString(w, "thanks from the receiver")
		}))
		defer receiver.Close()
		d.click("button", "Webhooks")
		d.find("heading", "Webhooks", 0)
		d.waitText("No webhooks yet.")
		const privateNets = "Allow private network targets (webhooks.allowPrivateNetworks)"
		if on := eval[bool](d, "private networks setting", fmt.Sprintf(`__find('label', %q)[0]?.checked`, privateNets)); on {
			t.Errorf("%s is ticked by default", privateNets)
		}
		d.waitText("SSRF")
		d.click("button", "New webhook")
		d.find("heading", "New webhook", 0)
		d.fill("Name", "receiver")
		d.fill("URL", receiver.URL+"/hook")
		d.click("label", "posts")
		d.click("label", "Delete") // only creates and updates
		d.fill("Filter", "scor > 1")
		d.click("button", "Create webhook")
		if err := d.poll("webhook filter error", `[...document.querySelectorAll('[role=alert]')].some(e => e.textContent.includes('Invalid filter for posts'))`); err != nil {
			t.Errorf("the webhook filter error is not shown inline: %v\n%s", err, d.text())
		}
		d.shot("webhook-filter-error")
		d.fill("Filter", "score > 1")
		d.click("button", "Create webhook")
		d.waitText("you will not see it again")
		secret := eval[string](d, "webhook secret", `__find('label', 'Signing secret')[0].value`)
		if !strings.HasPrefix(secret, "whsec_") {
			t.Errorf("the secret shown is %q, want whsec_…", secret)
		}
		d.shot("webhook-secret")
		d.click("button", "Done")
		if strings.Contains(d.text(), secret) || eval[bool](d, "secret gone", fmt.Sprintf(`document.documentElement.outerHTML.includes(%q)`, secret)) {
			t.Errorf("the secret is still on the page after Done")
		}
		var hooks struct {
			Items []map[string]any `json:"items"`
		}
		ta.mustJSON("GET", "/api/webhooks", nil, ta.su, 200, &hooks)
		if len(hooks.Items) != 1 {
			t.Fatalf("%d webhooks, want 1", len(hooks.Items))
		}
		hook := hooks.Items[0]
		if fmt.Sprintf("%v|%v|%v|%v|%v", hook["collections"], hook["events"], hook["filter"], hook["active"], hook["url"]) != "[posts]|[create update]|score > 1|true|"+receiver.URL+"/hook" {
			t.Errorf("webhook as saved: %v", hook)
		}
		if _, leaked := hook["secret"]; leaked {
			t.Errorf("the webhook list shows the secret")
		}
		// Record changes: one matching the filter, one not.
		ta.create("posts", map[string]any{"title": "Below the filter", "score": 0})
		ta.create("posts", map[string]any{"title": "Sent to the receiver", "score": 5})
		d.click("button", "Deliveries of receiver")
		d.find("heading", "Deliveries of receiver", 0)
		// deliveryRow waits (reloading the table) for a row whose cells
		// read like want: status, then the last response code.
		deliveryRow := func(status, code string) {
			t.Helper()
			js := fmt.Sprintf(`(() => { const t = document.querySelector('table[aria-label="Deliveries of receiver"]');
			  return !!t && [...t.tBodies[0].rows].some((r) => r.cells[0].textContent === %q && r.cells[3].textContent === %q); })()`, status, code)
			deadline := time.Now().Add(20 * time.Second)
			for !eval[bool](d, "delivery row", js) {
				if time.Now().After(deadline) {
					d.shot("missing-delivery")
					t.Fatalf("no %s delivery with response %s:\n%s", status, code, d.text())
				}
				time.Sleep(300 * time.Millisecond)
				d.click("button", "Reload deliveries")
			}
		}
		// The receiver is on 127.0.0.1: refused at once while private
		// networks are not allowed.
		deliveryRow("failed", "—")
		d.waitText("the target address is private")
		d.shot("webhook-delivery-refused")
		d.click("label", privateNets)
		d.waitText("Private network targets allowed.")
		var ws struct {
			Webhooks struct{ AllowPrivateNetworks bool } `json:"webhooks"`
		}
		ta.mustJSON("GET", "/api/settings", nil, ta.su, 200, &ws)
		if !ws.Webhooks.AllowPrivateNetworks {
			t.Errorf("ticking %q did not save the setting", privateNets)
		}
		retry := eval[string](d, "retry button", `[...document.querySelectorAll('table[aria-label="Deliveries of receiver"] button')].map((b) => b.getAttribute('aria-label')).find((l) => l?.startsWith('Retry ')) || ''`)
		if retry == "" {
			t.Fatalf("no Retry button for the failed delivery:\n%s", d.text())
		}
		d.click("button", retry)
		deliveryRow("delivered", "200")
		d.waitText("thanks from the receiver")
		d.shot("webhook-delivered")
		recvMu.Lock()
		deliveries := append([]received(nil), got...)
		recvMu.Unlock()
		if len(deliveries) != 1 {
			t.Errorf("the receiver got %d requests, want 1 (the record below the filter is not sent)", len(deliveries))
		}
		for _, r := range deliveries {
			id, tsText, sig := r.header.Get("webhook-id"), r.header.Get("webhook-timestamp"), r.header.Get("webhook-signature")
			ts, _ := strconv.ParseInt(tsText, 10, 64)
			want, err := webhooks.Sign(secret, id, ts, r.body)
			if sig == "" || err != nil || sig != want || "Retry "+id != retry {
				t.Errorf("delivery headers id %q ts %q signature %q (want %q, %v; retried %q)", id, tsText, sig, want, err, retry)
			}
			if !bytes.Contains(r.body, []byte("Sent to the receiver")) {
				t.Errorf("delivery body: %s", r.body)
			}
		}
		// Disable through the form, enable from the list, then delete.
		d.click("button", "Edit receiver")
		d.find("heading", "Edit webhook receiver", 0)
		d.click("label", "Active")
		d.click("button", "Save webhook")
		d.find("button", "Enable receiver", 0)
		d.waitText("Disabled")
		d.shot("webhook-disabled")
		d.click("button", "Enable receiver")
		d.waitText("Webhook receiver enabled.")
		ta.mustJSON("GET", "/api/webhooks", nil, ta.su, 200, &hooks)
		if len(hooks.Items) != 1 || hooks.Items[0]["active"] != true || hooks.Items[0]["filter"] != "score > 1" {
			t.Errorf("webhook after disable and enable: %v", hooks.Items)
		}
		d.shot("webhooks-list")
		d.click("button", "Delete receiver")
		d.find("heading", "Delete webhook receiver?", 0)
		d.click("button", "Delete")
		d.waitText("No webhooks yet.")
		ta.mustJSON("GET", "/api/webhooks", nil, ta.su, 200, &hooks)
		if len(hooks.Items) != 0 {
			t.Errorf("%d webhooks left after delete", len(hooks.Items))
		}

		// 11. Backups: one made now under a name is listed and downloads
		// with a file token; the download uploads back (then is deleted);
		// a wrong schedule is refused inline, a right
		// one saved; restoring shows the server's refusal; deleting empties
		// the list. Crons: one runs now.
		d.click("button", "Backups")
		d.find("heading", "Backups", 0)
		d.waitText("No backups yet.")
		d.fill("Backup name (optional)", "nightly_1.zip")
		d.click("button", "Create backup")
		d.waitText("Backup nightly_1.zip created.")
		d.find("button", "Download nightly_1.zip", 0)
		d.shot("backup-created")
		var backups []struct {
			Key  string `json:"key"`
			Size int64  `json:"size"`
		}
		ta.mustJSON("GET", "/api/backups", nil, ta.su, 200, &backups)
		if len(backups) != 1 || backups[0].Key != "nightly_1.zip" || backups[0].Size == 0 {
			t.Errorf("backups after creating nightly_1.zip: %+v", backups)
		}
		// Download: the link the page follows carries a file token, not
		// the auth token, and serves the archive.
		eval[chromedp.Void](d, "catch download", `(() => { window.__click = HTMLAnchorElement.prototype.click;
		  HTMLAnchorElement.prototype.click = function () { window.__download = this.href }; })()`)
		d.click("button", "Download nightly_1.zip")
		if err := d.poll("download link", `!!window.__download`); err != nil {
			t.Errorf("Download followed no link: %v", err)
		}
		dl := eval[string](d, "download link", `(() => { HTMLAnchorElement.prototype.click = window.__click; return window.__download || ''; })()`)
		authToken := eval[string](d, "auth token", `JSON.parse(localStorage.getItem('pocketbase_auth') || '{}').token || ''`)
		if !strings.Contains(dl, "/api/backups/nightly_1.zip?token=") || authToken == "" || strings.Contains(dl, authToken) {
			t.Errorf("download link %q (it must carry a file token, not the auth token)", dl)
		} else if res, err := http.Get(dl); err != nil {
			t.Errorf("download %s: %v", dl, err)
		} else {
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 200 || !bytes.HasPrefix(body, []byte("PK")) || int64(len(body)) != backups[0].Size {
				t.Errorf("download: status %d, %d bytes (want a %d-byte zip)", res.StatusCode, len(body), backups[0].Size)
			} else {
				// The downloaded archive uploads back under its file name.
				copyZip := filepath.Join(t.TempDir(), "copy_1.zip")
				if err := os.WriteFile(copyZip, body, 0o644); err != nil {
					t.Fatal(err)
				}
				d.run("choose backup file", chromedp.SetUploadFiles(d.find("label", "Backup file (.zip)", 0), []string{copyZip}))
				d.click("button", "Upload backup")
				d.waitText("Backup copy_1.zip uploaded.")
				d.find("button", "Delete copy_1.zip", 0)
				d.shot("backup-uploaded")
				d.click("button", "Delete copy_1.zip")
				d.find("heading", "Delete backup copy_1.zip?", 0)
				d.click("button", "Delete")
				d.waitText("Backup copy_1.zip deleted.")
			}
		}
		// The schedule: a wrong expression shows the server's error inline.
		d.fill("Cron expression", "every night")
		d.fill("Scheduled backups kept", "2")
		d.click("button", "Save schedule")
		if err := d.poll("cron error", `(() => { const e = __find('label', 'Cron expression')[0];
		  return e?.getAttribute('aria-invalid') === 'true' && [...document.querySelectorAll('[role=alert]')].some((a) => e.getAttribute('aria-describedby')?.split(' ').includes(a.id) && a.textContent.trim() !== ''); })()`); err != nil {
			t.Errorf("the cron error is not shown next to its field: %v\n%s", err, d.text())
		}
		d.shot("backup-cron-error")
		d.fill("Cron expression", "@daily")
		d.click("button", "Save schedule")
		d.waitText("Backup schedule saved.")
		var bs struct {
			Backups struct {
				Cron        string `json:"cron"`
				CronMaxKeep int    `json:"cronMaxKeep"`
			} `json:"backups"`
		}
		ta.mustJSON("GET", "/api/settings", nil, ta.su, 200, &bs)
		if bs.Backups.Cron != "@daily" || bs.Backups.CronMaxKeep != 2 {
			t.Errorf("backup schedule as saved: %+v", bs.Backups)
		}
		if invalid := eval[bool](d, "cron field", `__find('label', 'Cron expression')[0].getAttribute('aria-invalid') === 'true'`); invalid {
			t.Errorf("the cron field stays marked invalid after saving")
		}
		d.shot("backup-schedule-saved")
		// Restore: the server's answer shows, whichever it is (a refusal
		// with its message while restoring in place is not available).
		d.click("button", "Restore nightly_1.zip")
		d.find("heading", "Restore backup nightly_1.zip?", 0)
		d.shot("backup-restore-confirm")
		d.click("button", "Restore")
		if err := d.poll("restore outcome", `/refused by the server|nightly_1\.zip restored/.test(document.body.innerText)`); err != nil {
			d.shot("missing-restore-outcome")
			t.Fatalf("Restore showed no outcome: %v\n%s", err, d.text())
		}
		if page := d.text(); strings.Contains(page, "Restore of nightly_1.zip refused by the server:") {
			st, body := ta.do("POST", "/api/backups/nightly_1.zip/restore", nil, ta.su)
			var answer struct{ Message string }
			json.Unmarshal(body, &answer)
			if st != 400 || answer.Message == "" || !strings.Contains(page, answer.Message) {
				t.Errorf("the page does not show the server's refusal (%d %s):\n%s", st, body, page)
			}
			d.shot("backup-restore-refused")
		} else {
			d.waitText("Backup nightly_1.zip restored.")
			d.shot("backup-restored")
		}
		d.click("button", "Delete nightly_1.zip")
		d.find("heading", "Delete backup nightly_1.zip?", 0)
		d.click("button", "Delete")
		d.waitText("No backups yet.")
		d.shot("backup-deleted")
		ta.mustJSON("GET", "/api/backups", nil, ta.su, 200, &backups)
		if len(backups) != 0 {
			t.Errorf("backups left after delete: %+v", backups)
		}
		d.click("button", "Crons")
		d.find("heading", "Crons", 0)
		d.click("button", "Run __pbLogsCleanup__ now")
		d.waitText("Cron __pbLogsCleanup__ queued to run now.")
		d.find("heading", "Recent jobs", 0)
		d.shot("crons")

		// 12. Impersonate: on a user's record the superuser issues a token
		// that acts as that user, shown once and never stored; with it, a
		// collection whose list rule is owner = @request.auth.id lists only
		// her records, and it cannot be refreshed. An empty duration is the
		// collection's auth token duration (3600 s since 7b).
		bobID, _ := ta.signUp("bob@example.com")
		ta.createCollection(map[string]any{"name": "notes", "type": "base",
			"listRule": "owner = @request.auth.id", "viewRule": "owner = @request.auth.id",
			"fields": []map[string]any{{"name": "text", "type": "text"},
				{"name": "owner", "type": "relation", "collectionId": "_pb_users_auth_", "maxSelect": 1}}})
		ta.create("notes", map[string]any{"text": "ann's first note", "owner": annID})
		ta.create("notes", map[string]any{"text": "ann's second note", "owner": annID})
		ta.create("notes", map[string]any{"text": "bob's note", "owner": bobID})
		d.click("button", "users auth")
		d.find("heading", "users auth collection", 0)
		d.click("button", "Open "+annID)
		d.find("heading", "Edit users record", 0)
		d.click("button", "Impersonate")
		d.find("heading", "Impersonate ann@example.com", 0)
		d.waitText("Empty: the collection's auth token duration (3600 s).")
		d.shot("impersonate-dialog")
		d.click("button", "Issue token")
		d.waitText("It cannot be refreshed")
		impToken := eval[string](d, "impersonation token", `__find('label', 'Impersonation token')[0]?.value || ''`)
		d.click("button", "Copy")
		if err := d.poll("copied", `/Token copied\.|Copy failed/.test(document.querySelector('dialog[open] [role=status]')?.textContent || '')`); err != nil {
			t.Errorf("Copy showed no outcome: %v\n%s", err, d.text())
		}
		d.shot("impersonate-token")
		if impToken == "" || impToken == ta.su {
			t.Fatalf("impersonation token field shows %q", impToken)
		}
		claims := jwtClaims(t, impToken)
		if claims["id"] != annID || claims["refreshable"] != false || claims["exp"].(float64)-claims["iat"].(float64) != 3600 {
			t.Errorf("impersonation token claims %v: want ann's, not refreshable, 3600 s", claims)
		}
		var notes struct {
			TotalItems int              `json:"totalItems"`
			Items      []map[string]any `json:"items"`
		}
		ta.mustJSON("GET", "/api/collections/notes/records?sort=text", nil, impToken, 200, &notes)
		if notes.TotalItems != 2 || len(notes.Items) != 2 || notes.Items[0]["text"] != "ann's first note" || notes.Items[1]["text"] != "ann's second note" {
			t.Errorf("as ann (impersonated), notes lists %d: %v; want only ann's two", notes.TotalItems, notes.Items)
		}
		if st, body := ta.do("POST", "/api/collections/users/auth-refresh", nil, impToken); st != 403 {
			t.Errorf("the impersonation token was refreshed: %d %s", st, body)
		}
		// Never stored, never in a URL; the superuser stays signed in as
		// themselves.
		if leaked := eval[bool](d, "token storage", fmt.Sprintf(`[localStorage, sessionStorage].some((s) => Object.keys(s).some((k) => (s.getItem(k) || '').includes(%q)))
		  || location.href.includes(%q) || performance.getEntriesByType('resource').some((e) => e.name.includes(%q))
		  || document.cookie.includes(%q)`, impToken, impToken, impToken, impToken)); leaked {
			t.Errorf("the impersonation token is stored or in a URL")
		}
		if who := eval[string](d, "signed in as", `JSON.parse(localStorage.getItem('pocketbase_auth') || '{}').record?.email || ''`); who != "owner@example.com" {
			t.Errorf("after impersonating, the dashboard is signed in as %q", who)
		}
		d.click("button", "Done")
		if eval[bool](d, "token gone", fmt.Sprintf(`document.documentElement.outerHTML.includes(%q)`, impToken)) {
			t.Errorf("the impersonation token is still on the page after Done")
		}
		// A chosen duration.
		d.click("button", "Impersonate")
		d.fill("Token duration (seconds)", "90")
		d.click("button", "Issue token")
		d.waitText("It cannot be refreshed")
		impToken = eval[string](d, "impersonation token", `__find('label', 'Impersonation token')[0]?.value || ''`)
		if claims := jwtClaims(t, impToken); claims["id"] != annID || claims["exp"].(float64)-claims["iat"].(float64) != 90 {
			t.Errorf("impersonation token for 90 s: claims %v", claims)
		}
		d.shot("impersonate-90s")
		d.click("button", "Done")
		d.click("button", "Close")
		d.find("heading", "users auth collection", 0)
		d.shot("impersonate-done")

		for _, e := range problems() {
			// 400s the page showed on purpose are logged by the browser.
			if strings.Contains(e, "status of 400") || strings.Contains(e, "status of 403") {
				continue
			}
			t.Errorf("browser console: %s", e)
		}
	})
}

// superuserToken signs in a superuser through the API.
func (ta *testApp) superuserToken(email, password string) string {
	ta.t.Helper()
	var auth struct{ Token string }
	ta.mustJSON("POST", "/api/collections/_superusers/auth-with-password", map[string]any{"identity": email, "password": password}, "", 200, &auth)
	return auth.Token
}

// writePNG writes a small image to upload.
func writePNG(t *testing.T, path string) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := 0; x < 64; x++ {
		for y := 0; y < 48; y++ {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 5), 160, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
