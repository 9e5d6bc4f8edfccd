package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
)

// Kind groups scenarios by the target ratio they must meet.
type Kind string

// Scenario kinds.
const (
	KindRead  Kind = "read"
	KindWrite Kind = "write"
	KindAuth  Kind = "auth"
	// KindRealtime is the realtime fan-out, judged on its own targets.
	KindRealtime Kind = "realtime"
)

// targetEnv is what a scenario needs to know about one server under test.
type targetEnv struct {
	base   string
	fx     *fixture
	tokens []string // user tokens issued by this server
}

// Scenario is one kind of request driven against both servers.
type Scenario struct {
	Name string
	Kind Kind
	// Desc says what the request is, for the docs and the report.
	Desc string
	// NeedsUsers marks scenarios that cannot run without seeded users.
	NeedsUsers bool
	// Pending marks a hook that is not implemented yet; it is reported,
	// not run.
	Pending string
	// Realtime marks the realtime scenario, which harness.runRealtime
	// runs instead of measure (it has no Build).
	Realtime bool
	// Build returns the request generator for one server.
	Build func(te *targetEnv) RequestFunc
}

// scenarios returns every scenario in run order: reads first, so that the
// read scenarios see exactly the seeded row count, then writes and auth.
func scenarios() []Scenario {
	return []Scenario{
		{Name: "health", Kind: KindRead, Desc: "GET /api/health",
			Build: func(te *targetEnv) RequestFunc { return getFixed(te.base + "/api/health") }},
		{Name: "view", Kind: KindRead, Desc: "GET /api/collections/posts/records/{random seeded id}",
			Build: buildView},
		{Name: "view_repeat", Kind: KindRead, Desc: "GET the same public record again and again, as a guest, without Cache-Control: no-cache (Plinth's public cache on SQLite answers from memory; the baseline queries every time)",
			Build: buildViewRepeat},
		{Name: "list_skiptotal", Kind: KindRead, Desc: "GET posts records, page 1-10, perPage=20, skipTotal=1",
			Build: func(te *targetEnv) RequestFunc { return buildList(te, false) }},
		{Name: "list_total", Kind: KindRead, Desc: "GET posts records, page 1-10, perPage=20, with totalItems (count query)",
			Build: func(te *targetEnv) RequestFunc { return buildList(te, true) }},
		{Name: "filter_indexed", Kind: KindRead, Desc: "filter=(score >= X && score < X+10) sort=-score, perPage=20, skipTotal=1 (score is indexed)",
			Build: buildFilterIndexed},
		{Name: "filter_total", Kind: KindRead, Desc: "filter=(score > 500 && published = true) sort=-score, page 1-10, perPage=20, with totalItems (score is indexed; about a quarter of the rows match)",
			Build: buildFilterTotal},
		{Name: "filter_unindexed", Kind: KindRead, Desc: "filter=(published = true && status = 'S') sort=-created, perPage=20, skipTotal=1 (no index)",
			Build: buildFilterUnindexed},
		{Name: "list_owner_rule", Kind: KindRead, NeedsUsers: true,
			Desc:  "GET owned_posts records as a logged-in user, listRule owner = @request.auth.id, perPage=20, skipTotal=1",
			Build: buildOwnerList},
		{Name: "create", Kind: KindWrite, NeedsUsers: false, Desc: "POST /api/collections/posts/records (6 fields)",
			Build: buildCreate},
		{Name: "update", Kind: KindWrite, Desc: "PATCH /api/collections/posts/records/{random seeded id} (score, title)",
			Build: buildUpdate},
		{Name: "batch_create_10", Kind: KindWrite, Desc: "POST /api/batch with 10 record creates (one transaction)",
			Build: buildBatch},
		{Name: "login", Kind: KindAuth, NeedsUsers: true, Desc: "POST /api/collections/users/auth-with-password (bcrypt)",
			Build: buildLogin},
		{Name: "auth_refresh", Kind: KindAuth, NeedsUsers: true, Desc: "POST /api/collections/users/auth-refresh with a user token",
			Build: buildRefresh},
		// REALTIME HOOK, implemented: fan-out of record events to
		// --rt-subscribers SSE and then WebSocket subscribers on a fresh
		// Plinth process (bench/realtime.go). It is run by
		// harness.runRealtime, once per database, not by measure: there is
		// no baseline broadcaster to take a ratio against.
		{Name: realtimeScenario, Kind: KindRealtime, Realtime: true,
			Desc: "realtime fan-out: one create reaching N SSE / WebSocket subscribers; memory per idle connection; create latency with N connected"},
	}
}

func getFixed(u string) RequestFunc {
	return func(ctx context.Context, _ *rand.Rand) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	}
}

// getUncached is a GET that asks for a fresh answer: the read scenarios
// measure the work of answering, so they keep Plinth's public cache (which
// honours Cache-Control: no-cache) out of the way; view_repeat measures it.
func getUncached(ctx context.Context, u string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err == nil {
		req.Header.Set("Cache-Control", "no-cache")
	}
	return req, err
}

func buildViewRepeat(te *targetEnv) RequestFunc {
	return getFixed(recordsURL(te, postsCollection) + "/" + te.fx.PostIDs[0])
}

func recordsURL(te *targetEnv, coll string) string {
	return te.base + "/api/collections/" + coll + "/records"
}

func buildView(te *targetEnv) RequestFunc {
	base, ids := recordsURL(te, postsCollection)+"/", te.fx.PostIDs
	return func(ctx context.Context, rng *rand.Rand) (*http.Request, error) {
		return getUncached(ctx, base+ids[rng.IntN(len(ids))])
	}
}

func buildList(te *targetEnv, total bool) RequestFunc {
	base := recordsURL(te, postsCollection)
	return func(ctx context.Context, rng *rand.Rand) (*http.Request, error) {
		u := fmt.Sprintf("%s?page=%d&perPage=20", base, 1+rng.IntN(10))
		if !total {
			u += "&skipTotal=1"
		}
		return getUncached(ctx, u)
	}
}

func listQuery(filter, sort string) string {
	q := url.Values{}
	q.Set("perPage", "20")
	q.Set("skipTotal", "1")
	q.Set("filter", filter)
	q.Set("sort", sort)
	return q.Encode()
}

func buildFilterIndexed(te *targetEnv) RequestFunc {
	base := recordsURL(te, postsCollection)
	return func(ctx context.Context, rng *rand.Rand) (*http.Request, error) {
		x := rng.IntN(990)
		f := fmt.Sprintf("(score >= %d && score < %d)", x, x+10)
		return getUncached(ctx, base+"?"+listQuery(f, "-score"))
	}
}

// buildFilterTotal is the filtered list with a total from the issue that
// found it slow: the page is served by the score index, the total counts
// every matching row.
func buildFilterTotal(te *targetEnv) RequestFunc {
	base := recordsURL(te, postsCollection)
	return func(ctx context.Context, rng *rand.Rand) (*http.Request, error) {
		q := url.Values{}
		q.Set("page", fmt.Sprint(1+rng.IntN(10)))
		q.Set("perPage", "20")
		q.Set("filter", "(score > 500 && published = true)")
		q.Set("sort", "-score")
		return getUncached(ctx, base+"?"+q.Encode())
	}
}

func buildFilterUnindexed(te *targetEnv) RequestFunc {
	base := recordsURL(te, postsCollection)
	return func(ctx context.Context, rng *rand.Rand) (*http.Request, error) {
		f := fmt.Sprintf("(published = %t && status = '%s')", rng.IntN(2) == 0, statuses[rng.IntN(len(statuses))])
		return getUncached(ctx, base+"?"+listQuery(f, "-created"))
	}
}

func buildOwnerList(te *targetEnv) RequestFunc {
	base := recordsURL(te, ownedCollection) + "?perPage=20&skipTotal=1"
	return func(ctx context.Context, rng *rand.Rand) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base, nil)
		if err == nil {
			req.Header.Set("Authorization", te.tokens[rng.IntN(len(te.tokens))])
		}
		return req, err
	}
}

// newPostBody returns the JSON object of a created post.
func newPostBody(rng *rand.Rand, owners []string) map[string]any {
	body := map[string]any{
		"title":     fmt.Sprintf("Created post %d", rng.IntN(1_000_000)),
		"score":     float64(rng.IntN(100000)) / 100,
		"published": rng.IntN(2) == 0,
		"status":    statuses[rng.IntN(len(statuses))],
		"meta":      map[string]any{"n": rng.IntN(1000), "tag": "new"},
	}
	if len(owners) > 0 {
		body["owner"] = owners[rng.IntN(len(owners))]
	}
	return body
}

func jsonRequest(ctx context.Context, method, u string, v any) (*http.Request, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(b))
	if err == nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, err
}

func buildCreate(te *targetEnv) RequestFunc {
	u, owners := recordsURL(te, postsCollection), te.fx.ownerIDs()
	return func(ctx context.Context, rng *rand.Rand) (*http.Request, error) {
		return jsonRequest(ctx, http.MethodPost, u, newPostBody(rng, owners))
	}
}

func buildUpdate(te *targetEnv) RequestFunc {
	base, ids := recordsURL(te, postsCollection)+"/", te.fx.PostIDs
	return func(ctx context.Context, rng *rand.Rand) (*http.Request, error) {
		body := map[string]any{"score": float64(rng.IntN(100000)) / 100, "title": fmt.Sprintf("Updated %d", rng.IntN(1_000_000))}
		return jsonRequest(ctx, http.MethodPatch, base+ids[rng.IntN(len(ids))], body)
	}
}

func buildBatch(te *targetEnv) RequestFunc {
	u, owners := te.base+"/api/batch", te.fx.ownerIDs()
	path := "/api/collections/" + postsCollection + "/records"
	return func(ctx context.Context, rng *rand.Rand) (*http.Request, error) {
		reqs := make([]map[string]any, 10)
		for i := range reqs {
			reqs[i] = map[string]any{"method": http.MethodPost, "url": path, "body": newPostBody(rng, owners)}
		}
		return jsonRequest(ctx, http.MethodPost, u, map[string]any{"requests": reqs})
	}
}

func buildLogin(te *targetEnv) RequestFunc {
	u, users := te.base+"/api/collections/"+usersCollection+"/auth-with-password", te.fx.Users
	return func(ctx context.Context, rng *rand.Rand) (*http.Request, error) {
		return jsonRequest(ctx, http.MethodPost, u, map[string]string{
			"identity": users[rng.IntN(len(users))].Email, "password": userPassword,
		})
	}
}

func buildRefresh(te *targetEnv) RequestFunc {
	u := te.base + "/api/collections/" + usersCollection + "/auth-refresh"
	return func(ctx context.Context, rng *rand.Rand) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, nil)
		if err == nil {
			req.Header.Set("Authorization", te.tokens[rng.IntN(len(te.tokens))])
		}
		return req, err
	}
}
