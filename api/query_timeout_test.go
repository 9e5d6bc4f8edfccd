package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/internal/testenv"
)

// TestAbusiveFilterIsInterrupted checks that a filter the budget allows but
// the database cannot answer quickly (nested back-relations over an
// unindexed relation) is interrupted inside the database at the query
// timeout, answering 503, and that health checks are still answered while
// several such queries run.
func TestAbusiveFilterIsInterrupted(t *testing.T) {
	t.Parallel()
	testenv.Run(t, func(t *testing.T, b testenv.Backend) {
		ta := setupWith(t, b, func(c *plinth.Config) { c.QueryTimeout = 300 * time.Millisecond })
		ta.createCollection(map[string]any{"name": "nodes", "listRule": "", "fields": []map[string]any{{"name": "name", "type": "text"}}})
		ta.mustJSON("PATCH", "/api/collections/nodes", map[string]any{"fields": []map[string]any{
			{"name": "name", "type": "text"},
			{"name": "links", "type": "relation", "collectionId": "nodes", "maxSelect": 999}}}, ta.su, 200, nil)
		// 200 nodes, each linking to all of them: three hops through the
		// links visit 200³ rows per node.
		var ids []string
		for i := range 200 {
			ids = append(ids, fmt.Sprintf("node%011d", i))
		}
		for _, method := range []string{"POST", "PATCH"} {
			for start := 0; start < len(ids); start += 50 {
				var reqs []map[string]any
				for _, id := range ids[start : start+50] {
					req := map[string]any{"method": method, "url": "/api/collections/nodes/records", "body": map[string]any{"id": id, "name": id}}
					if method == "PATCH" {
						req["url"], req["body"] = "/api/collections/nodes/records/"+id, map[string]any{"links": ids}
					}
					reqs = append(reqs, req)
				}
				ta.mustJSON("POST", "/api/batch", map[string]any{"requests": reqs}, ta.su, 200, nil)
			}
		}
		abusive := "/api/collections/nodes/records?filter=" + url.QueryEscape("links.links.links.name ?= 'none'")

		var wg sync.WaitGroup
		statuses := make([]int, 6)
		start := time.Now()
		for i := range statuses {
			wg.Go(func() { statuses[i], _ = ta.do("GET", abusive, nil, ta.su) })
		}
		var slowest time.Duration
		for range 10 {
			t0 := time.Now()
			if status, body := ta.do("GET", "/api/health", nil, ""); status != http.StatusOK {
				t.Errorf("health while abusive queries run: %d %s", status, body)
			}
			slowest = max(slowest, time.Since(t0))
			time.Sleep(20 * time.Millisecond)
		}
		wg.Wait()
		t.Logf("%s: 6 abusive queries answered in %v; slowest health check %v", b.Name, time.Since(start), slowest)
		for i, st := range statuses {
			if st != http.StatusServiceUnavailable {
				t.Errorf("abusive query %d: status %d, want 503 (interrupted at the query timeout)", i, st)
			}
		}
	})
}
