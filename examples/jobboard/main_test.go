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
	"net/url"
	"slices"
	"strconv"
	"testing"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/examples/internal/e2e"
	"github.com/plinthdev/plinth/internal/testenv"
)

type job struct {
	ID         string   `json:"id"`
	Title      string   `json:"title"`
	Company    string   `json:"company"`
	Remote     bool     `json:"remote"`
	SalaryMin  int      `json:"salary_min"`
	SalaryMax  int      `json:"salary_max"`
	Tags       []string `json:"tags"`
	Employment string   `json:"employment"`
	Published  bool     `json:"published"`
}

type application struct {
	ID        string `json:"id"`
	Job       string `json:"job"`
	Applicant string `json:"applicant"`
	CV        string `json:"cv"`
	Status    string `json:"status"`
}

type apiError struct {
	Status  int                          `json:"status"`
	Message string                       `json:"message"`
	Data    map[string]map[string]string `json:"data"`
}

func TestJobBoard(t *testing.T) {
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

		// Two employers, two applicants.
		ann, annTok := c.SignUp("ann@acme.test")
		gus, gusTok := c.SignUp("gus@globex.test")
		pia, piaTok := c.SignUp("pia@example.com")
		pete, peteTok := c.SignUp("pete@example.com")

		var acme, globex struct{ ID string }
		c.Call("POST", "/api/collections/companies/records", annTok, map[string]any{"name": "Acme", "owner": ann}, 200, &acme)
		c.Call("POST", "/api/collections/companies/records", gusTok, map[string]any{"name": "Globex", "owner": gus}, 200, &globex)
		c.Call("POST", "/api/collections/companies/records", gusTok, map[string]any{"name": "Fake Acme", "owner": ann}, 400, nil)
		c.Call("PATCH", "/api/collections/companies/records/"+acme.ID, annTok, map[string]any{"owner": gus}, 400, nil)

		post := func(token, company string, j map[string]any) string {
			t.Helper()
			j["company"] = company
			var out job
			c.Call("POST", "/api/collections/jobs/records", token, j, 200, &out)
			return out.ID
		}
		seniorGo := post(annTok, acme.ID, map[string]any{"title": " Senior Go Engineer ", "description": "Build our Go APIs on PostgreSQL.",
			"location": "Berlin", "remote": true, "salary_min": 90000, "salary_max": 130000, "tags": []string{"backend", "go"}, "employment": "full-time", "published": true})
		goIntern := post(annTok, acme.ID, map[string]any{"title": "Go Intern", "description": "Learn Go with us.",
			"location": "Berlin", "salary_min": 20000, "salary_max": 25000, "tags": []string{"backend", "go"}, "employment": "internship", "published": true})
		frontend := post(annTok, acme.ID, map[string]any{"title": "Frontend Developer", "description": "React and TypeScript; some Go is a plus.",
			"remote": true, "salary_min": 60000, "salary_max": 80000, "tags": []string{"frontend", "typescript"}, "employment": "contract", "published": true})
		acmeDraft := post(annTok, acme.ID, map[string]any{"title": "Go Platform Lead", "description": "Not announced yet.",
			"remote": true, "salary_min": 150000, "salary_max": 180000, "tags": []string{"backend", "go", "devops"}, "employment": "full-time"})
		dataEng := post(gusTok, globex.ID, map[string]any{"title": "Data Engineer", "description": "Pipelines in Python.",
			"location": "London", "salary_min": 70000, "salary_max": 95000, "tags": []string{"data", "python", "backend"}, "employment": "full-time", "published": true})
		goDevOps := post(gusTok, globex.ID, map[string]any{"title": "Go DevOps Engineer", "description": "Kubernetes operators.",
			"remote": true, "salary_min": 55000, "salary_max": 70000, "tags": []string{"devops", "go"}, "employment": "part-time", "published": true})
		globexDraft := post(gusTok, globex.ID, map[string]any{"title": "Python Backend Developer", "description": "Draft.",
			"remote": true, "salary_min": 80000, "salary_max": 100000, "tags": []string{"backend", "python"}, "employment": "full-time"})
		names := map[string]string{seniorGo: "seniorGo", goIntern: "goIntern", frontend: "frontend", acmeDraft: "acmeDraft",
			dataEng: "dataEng", goDevOps: "goDevOps", globexDraft: "globexDraft"}

		// Only a company's owner posts and edits its jobs.
		c.Call("POST", "/api/collections/jobs/records", gusTok, map[string]any{"title": "Fake", "company": acme.ID, "employment": "full-time", "published": true}, 400, nil)
		c.Call("POST", "/api/collections/jobs/records", "", map[string]any{"title": "Fake", "company": acme.ID, "employment": "full-time", "published": true}, 400, nil)
		c.Call("PATCH", "/api/collections/jobs/records/"+seniorGo, gusTok, map[string]any{"title": "Hacked"}, 404, nil)
		c.Call("DELETE", "/api/collections/jobs/records/"+seniorGo, gusTok, nil, 404, nil)
		var refused apiError
		c.Call("PATCH", "/api/collections/jobs/records/"+seniorGo, annTok, map[string]any{"company": globex.ID}, 400, &refused)
		if refused.Data["company"]["code"] != "immutable" {
			t.Errorf("moving a job to another company: %+v", refused)
		}
		c.Call("PATCH", "/api/collections/jobs/records/"+seniorGo, annTok, map[string]any{"company+": globex.ID}, 400, nil)
		c.Call("PATCH", "/api/collections/jobs/records/"+seniorGo, annTok, map[string]any{"salary_min": 200000}, 400, &refused)
		if refused.Data["salary_max"]["code"] != "salary_range" {
			t.Errorf("an upside-down salary range: %+v", refused)
		}
		var sg job
		c.Call("GET", "/api/collections/jobs/records/"+seniorGo, "", nil, 200, &sg)
		if sg.Title != "Senior Go Engineer" || sg.Company != acme.ID || sg.SalaryMin != 90000 || !slices.Equal(sg.Tags, []string{"backend", "go"}) {
			t.Errorf("senior Go job %+v", sg)
		}

		// search lists the jobs the caller's filter and sort give, by name.
		search := func(token, filter, sort string, page, perPage int) (int, []string) {
			t.Helper()
			q := url.Values{"filter": {filter}, "sort": {sort}}
			if page > 0 {
				q.Set("page", strconv.Itoa(page))
				q.Set("perPage", strconv.Itoa(perPage))
			}
			var p e2e.Page[job]
			c.Call("GET", "/api/collections/jobs/records?"+q.Encode(), token, nil, 200, &p)
			var got []string
			for _, j := range p.Items {
				got = append(got, names[j.ID])
			}
			return p.TotalItems, got
		}
		for _, tc := range []struct {
			who, token, filter, sort string
			want                     []string
		}{
			// The README's search: Go in the title, remote, at least 50k,
			// tagged backend. Ann's draft matches too, for Ann alone.
			{"guest", "", `title ~ "go" && remote = true && salary_min >= 50000 && tags ?= "backend"`, "", []string{"seniorGo"}},
			{"gus", gusTok, `title ~ "go" && remote = true && salary_min >= 50000 && tags ?= "backend"`, "", []string{"seniorGo"}},
			{"ann", annTok, `title ~ "go" && remote = true && salary_min >= 50000 && tags ?= "backend"`, "-salary_min", []string{"acmeDraft", "seniorGo"}},
			// ~ is case-insensitive; a sort by salary.
			{"guest", "", `title ~ "GO"`, "-salary_max", []string{"seniorGo", "goDevOps", "goIntern"}},
			// Every tag (two ?= conditions) vs any of them.
			{"guest", "", `tags ?= "go" && tags ?= "backend"`, "title", []string{"goIntern", "seniorGo"}},
			{"guest", "", `tags ?= "frontend" || tags ?= "data"`, "title", []string{"dataEng", "frontend"}},
			// Full-text-ish: title or description, and a select.
			{"guest", "", `(title ~ "go" || description ~ "go") && employment = "contract"`, "", []string{"frontend"}},
			{"guest", "", `salary_max <= 80000 && (remote = true || location = "London")`, "title", []string{"frontend", "goDevOps"}},
			{"guest", "", `location ~ "berlin" && remote = false`, "", []string{"goIntern"}},
			// Through the company relation.
			{"guest", "", `company.name = "Globex"`, "title", []string{"dataEng", "goDevOps"}},
			{"guest", "", `tags ?= "python"`, "", []string{"dataEng"}},
			{"gus", gusTok, `tags ?= "python"`, "title", []string{"dataEng", "globexDraft"}},
			// Drafts: nobody but the company's owner sees them.
			{"guest", "", `published = false`, "", nil},
			{"ann", annTok, `published = false`, "", []string{"acmeDraft"}},
			{"gus", gusTok, `published = false`, "", []string{"globexDraft"}},
			{"pia", piaTok, `id = "` + acmeDraft + `" || id = "` + globexDraft + `"`, "", nil},
		} {
			total, got := search(tc.token, tc.filter, tc.sort, 0, 0)
			if !slices.Equal(got, tc.want) || total != len(tc.want) {
				t.Errorf("%s: %s sorted %q: %d %v, want %v", tc.who, tc.filter, tc.sort, total, got, tc.want)
			}
		}
		// The public list, paged: 5 published jobs, by salary.
		if total, got := search("", "", "-salary_min,title", 2, 2); total != 5 || !slices.Equal(got, []string{"frontend", "goDevOps"}) {
			t.Errorf("page 2 of the public list: %d %v", total, got)
		}
		if total, got := search(annTok, "", "", 1, 50); total != 6 || slices.Contains(got, "globexDraft") {
			t.Errorf("ann lists %d jobs: %v", total, got)
		}
		c.Call("GET", "/api/collections/jobs/records?filter="+url.QueryEscape(`title ~`), "", nil, 400, nil)
		c.Call("GET", "/api/collections/jobs/records/"+acmeDraft, "", nil, 404, nil)
		c.Call("GET", "/api/collections/jobs/records/"+acmeDraft, gusTok, nil, 404, nil)
		c.Call("GET", "/api/collections/jobs/records/"+acmeDraft, annTok, nil, 200, nil)

		// Facets: counts per value, under the caller's rules.
		facetsOf := func(token, filter string) facetCounts {
			t.Helper()
			var f facetCounts
			c.Call("GET", "/api/jobboard/facets?filter="+url.QueryEscape(filter), token, nil, 200, &f)
			return f
		}
		f := facetsOf("", `title ~ "go"`)
		if f.Total != 3 || f.Employment["full-time"] != 1 || f.Employment["internship"] != 1 || f.Employment["part-time"] != 1 || f.Employment["contract"] != 0 ||
			f.Remote["true"] != 2 || f.Remote["false"] != 1 || f.Tags["go"] != 3 || f.Tags["backend"] != 2 || f.Tags["devops"] != 1 || f.Tags["python"] != 0 {
			t.Errorf("guest facets of Go jobs: %+v", f)
		}
		f = facetsOf(annTok, `title ~ "go"`)
		if f.Total != 4 || f.Employment["full-time"] != 2 || f.Remote["true"] != 3 || f.Tags["devops"] != 2 {
			t.Errorf("ann's facets of Go jobs (her draft included): %+v", f)
		}
		if f := facetsOf("", `title ~ "go" // a comment`); f.Total != 3 || f.Tags["go"] != 3 {
			t.Errorf("facets of a filter ending in a comment: %+v", f)
		}
		if f := facetsOf("", ""); f.Total != 5 || f.Employment["full-time"] != 2 || f.Tags["backend"] != 3 || f.Remote["false"] != 2 {
			t.Errorf("guest facets of every job: %+v", f)
		}
		for _, bad := range []string{`title ~`, `title ~ "go") || (published = false`, `nope = 1`} {
			c.Call("GET", "/api/jobboard/facets?filter="+url.QueryEscape(bad), "", nil, 400, nil)
		}

		// Applications. Pia applies with a CV (multipart, as the SDK sends
		// files); the status is always "submitted" at first.
		cv := []byte("%PDF-1.4\n% Pia's CV\n%%EOF\n")
		var piaApp application
		status, data := apply(t, srv.URL, piaTok, map[string]string{"job": seniorGo, "applicant": pia, "email": "pia@example.com",
			"cover_letter": "I love Go.", "status": "offered"}, cv)
		if status != 200 {
			t.Fatalf("pia's application: %d %s", status, data)
		}
		json.Unmarshal(data, &piaApp)
		if piaApp.Status != "submitted" || piaApp.CV == "" {
			t.Errorf("pia's application %+v", piaApp)
		}
		var peteApp, peteGlobex application
		c.Call("POST", "/api/collections/applications/records", peteTok, map[string]any{"job": seniorGo, "applicant": pete, "email": "pete@example.com"}, 200, &peteApp)
		c.Call("POST", "/api/collections/applications/records", peteTok, map[string]any{"job": dataEng, "applicant": pete, "email": "pete@example.com"}, 200, &peteGlobex)

		// One application per applicant and job.
		c.Call("POST", "/api/collections/applications/records", piaTok, map[string]any{"job": seniorGo, "applicant": pia, "email": "pia@example.com"}, 400, &refused)
		if refused.Data["job"]["code"] != "validation_not_unique" {
			t.Errorf("a second application: %+v", refused)
		}
		// Not to drafts, not to one's own company, not as a guest.
		c.Call("POST", "/api/collections/applications/records", piaTok, map[string]any{"job": acmeDraft, "applicant": pia, "email": "pia@example.com"}, 400, nil)
		c.Call("POST", "/api/collections/applications/records", piaTok, map[string]any{"job": globexDraft, "applicant": pia, "email": "pia@example.com"}, 400, nil)
		c.Call("POST", "/api/collections/applications/records", annTok, map[string]any{"job": goIntern, "applicant": ann, "email": "ann@acme.test"}, 400, nil)
		c.Call("POST", "/api/collections/applications/records", "", map[string]any{"job": goIntern, "applicant": pia, "email": "pia@example.com"}, 400, nil)
		// Nor in someone else's name; and the refusal does not tell Pete
		// whether Pia applied to the job (she did to seniorGo, not to
		// goIntern): the answers are the same.
		var asPia, asPia2, guestAsPia apiError
		c.Call("POST", "/api/collections/applications/records", peteTok, map[string]any{"job": seniorGo, "applicant": pia, "email": "pete@example.com"}, 400, &asPia)
		c.Call("POST", "/api/collections/applications/records", peteTok, map[string]any{"job": goIntern, "applicant": pia, "email": "pete@example.com"}, 400, &asPia2)
		c.Call("POST", "/api/collections/applications/records", "", map[string]any{"job": seniorGo, "applicant": pia, "email": "pete@example.com"}, 400, &guestAsPia)
		const ruleRefusal = "Failed to create record: the collection's create rule does not allow it."
		if asPia.Message != ruleRefusal || asPia2.Message != ruleRefusal || guestAsPia.Message != ruleRefusal || len(asPia.Data)+len(asPia2.Data)+len(guestAsPia.Data) != 0 {
			t.Errorf("applying as pia: %+v, %+v, %+v", asPia, asPia2, guestAsPia)
		}

		// Applicants see their own applications only.
		apps := func(token, filter string) []string {
			t.Helper()
			var p e2e.Page[application]
			c.Call("GET", "/api/collections/applications/records?sort=created&filter="+url.QueryEscape(filter), token, nil, 200, &p)
			var ids []string
			for _, a := range p.Items {
				ids = append(ids, a.ID)
			}
			if len(ids) != p.TotalItems {
				t.Errorf("%d items, totalItems %d", len(ids), p.TotalItems)
			}
			return ids
		}
		if got := apps(piaTok, ""); !slices.Equal(got, []string{piaApp.ID}) {
			t.Errorf("pia lists %v", got)
		}
		if got := apps(piaTok, `job = "`+seniorGo+`"`); !slices.Equal(got, []string{piaApp.ID}) {
			t.Errorf("pia lists for seniorGo %v", got)
		}
		if got := apps(piaTok, `applicant = "`+pete+`"`); len(got) != 0 {
			t.Errorf("pia lists pete's applications %v", got)
		}
		if got := apps("", ""); len(got) != 0 {
			t.Errorf("a guest lists %v", got)
		}
		c.Call("GET", "/api/collections/applications/records/"+peteApp.ID, piaTok, nil, 404, nil)
		// Employers see the applications to their own jobs only.
		if got := apps(annTok, ""); !slices.Equal(got, []string{piaApp.ID, peteApp.ID}) {
			t.Errorf("ann lists %v", got)
		}
		if got := apps(gusTok, ""); !slices.Equal(got, []string{peteGlobex.ID}) {
			t.Errorf("gus lists %v", got)
		}
		if got := apps(gusTok, `job = "`+seniorGo+`"`); len(got) != 0 {
			t.Errorf("gus lists applications to ann's job %v", got)
		}
		c.Call("GET", "/api/collections/applications/records/"+peteGlobex.ID, annTok, nil, 404, nil)
		c.Call("GET", "/api/collections/applications/records/"+piaApp.ID, gusTok, nil, 404, nil)
		var viewed struct {
			application
			Expand struct{ Job job } `json:"expand"`
		}
		c.Call("GET", "/api/collections/applications/records/"+piaApp.ID+"?expand=job", annTok, nil, 200, &viewed)
		if viewed.Expand.Job.Title != "Senior Go Engineer" {
			t.Errorf("ann's view of pia's application %+v", viewed)
		}

		// The employer moves the status, and nothing else; nobody else
		// changes it.
		var moved application
		c.Call("PATCH", "/api/collections/applications/records/"+piaApp.ID, annTok, map[string]any{"status": "reviewing"}, 200, &moved)
		if moved.Status != "reviewing" {
			t.Errorf("status %+v", moved)
		}
		c.Call("PATCH", "/api/collections/applications/records/"+piaApp.ID, annTok, map[string]any{"cover_letter": "edited"}, 400, nil)
		c.Call("PATCH", "/api/collections/applications/records/"+piaApp.ID, annTok, map[string]any{"job": goIntern}, 400, nil)
		c.Call("PATCH", "/api/collections/applications/records/"+piaApp.ID, gusTok, map[string]any{"status": "rejected"}, 404, nil)
		c.Call("PATCH", "/api/collections/applications/records/"+piaApp.ID, piaTok, map[string]any{"status": "offered"}, 404, nil)

		// The CV: the employer downloads it with a file token, other
		// people's tokens and no token get nothing.
		fileURL := srv.URL + "/api/files/applications/" + piaApp.ID + "/" + piaApp.CV
		fileToken := func(token string) string {
			var ft struct{ Token string }
			c.Call("POST", "/api/files/token", token, nil, 200, &ft)
			return ft.Token
		}
		if status, body := get(t, fileURL+"?token="+fileToken(annTok)); status != 200 || !bytes.Equal(body, cv) {
			t.Errorf("ann's download of pia's CV: %d %q", status, body)
		}
		if status, _ := get(t, fileURL+"?token="+fileToken(piaTok)); status != 200 {
			t.Errorf("pia's download of her CV: %d", status)
		}
		for who, tok := range map[string]string{"gus": gusTok, "pete": peteTok} {
			if status, _ := get(t, fileURL+"?token="+fileToken(tok)); status < 400 {
				t.Errorf("%s downloads pia's CV: %d", who, status)
			}
		}
		if status, _ := get(t, fileURL); status < 400 {
			t.Errorf("pia's CV without a token: %d", status)
		}
		if status, data := apply(t, srv.URL, piaTok, map[string]string{"job": goIntern, "applicant": pia, "email": "pia@example.com"}, []byte("not a pdf")); status != 400 {
			t.Errorf("a CV that is not a PDF: %d %s", status, data)
		}

		// Withdrawing (only the applicant) frees the slot.
		c.Call("DELETE", "/api/collections/applications/records/"+piaApp.ID, annTok, nil, 404, nil)
		c.Call("DELETE", "/api/collections/applications/records/"+piaApp.ID, piaTok, nil, 204, nil)
		c.Call("POST", "/api/collections/applications/records", piaTok, map[string]any{"job": seniorGo, "applicant": pia, "email": "pia@example.com"}, 200, nil)

		// Publishing the draft shows it to everyone.
		c.Call("PATCH", "/api/collections/jobs/records/"+acmeDraft, annTok, map[string]any{"published": true}, 200, nil)
		c.Call("GET", "/api/collections/jobs/records/"+acmeDraft, "", nil, 200, nil)
		if f := facetsOf("", ""); f.Total != 6 {
			t.Errorf("guest facets after publishing: %+v", f)
		}
	})
}

// apply creates an application with a multipart body: the fields, and cv
// as the file of the cv field.
func apply(t *testing.T, base, token string, fields map[string]string, cv []byte) (int, []byte) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, _ := mw.CreateFormFile("cv", "cv.pdf")
	fw.Write(cv)
	mw.Close()
	req, _ := http.NewRequest("POST", base+"/api/collections/applications/records", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}

func get(t *testing.T, u string) (int, []byte) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, data
}
