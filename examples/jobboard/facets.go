package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/schema"
)

// facetCounts is the answer of GET /api/jobboard/facets: how many jobs
// match the filter in all, and per value of each facet.
type facetCounts struct {
	Total      int            `json:"total"`
	Employment map[string]int `json:"employment"`
	Remote     map[string]int `json:"remote"`
	Tags       map[string]int `json:"tags"`
}

// facets is GET /api/jobboard/facets?filter=...: the counts a search page
// shows beside its results (full-time 12, contract 3, remote 9, go 7...).
// Every count is a list through app.Records() as the caller, with the
// caller's filter and one facet value, so the jobs list rule applies: a
// guest counts published jobs, an employer also their own drafts. The
// facet values are read from the schema, so new select values show up
// without a code change.
func facets(app *plinth.App) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		jobs := app.Store().Schema().Lookup("jobs")
		if jobs == nil { // deleted from the dashboard
			return &plinth.APIError{Status: http.StatusNotFound, Message: "There are no jobs."}
		}
		caller := app.Caller(r)
		base := r.URL.Query().Get("filter")
		count := func(extra string) (int, error) {
			f := extra
			switch {
			case base == "":
			case extra == "":
				f = base
			default:
				// The newline ends a trailing // comment of base. base
				// alone was compiled first (the total), so it is one
				// whole expression and the parentheses keep it one.
				f = "(" + base + "\n) && " + extra
			}
			page, err := app.Records().List(r.Context(), caller, jobs, record.ListParams{Filter: f, PerPage: 1})
			if err != nil {
				return 0, err
			}
			return page.TotalItems, nil
		}

		// The total first: a malformed filter fails here, as a 400.
		total, err := count("")
		if err != nil {
			return err
		}
		out := facetCounts{Total: total, Remote: map[string]int{}}
		if out.Employment, err = countValues(jobs, "employment", "employment = %s", count); err != nil {
			return err
		}
		if out.Tags, err = countValues(jobs, "tags", "tags ?= %s", count); err != nil {
			return err
		}
		if out.Remote["true"], err = count("remote = true"); err != nil {
			return err
		}
		out.Remote["false"] = total - out.Remote["true"]
		w.Header().Set("Content-Type", "application/json")
		return json.NewEncoder(w).Encode(out)
	}
}

// countValues counts the jobs per value of the select field named field,
// with cond (a filter with one %s for the quoted value).
func countValues(c *schema.Collection, field, cond string, count func(string) (int, error)) (map[string]int, error) {
	out := map[string]int{}
	f := c.Field(field)
	if f == nil {
		return out, nil
	}
	opts, ok := f.Options.(*schema.SelectOptions)
	if !ok {
		return out, nil
	}
	for _, v := range opts.Values {
		n, err := count(fmt.Sprintf(cond, quote(v)))
		if err != nil {
			return nil, err
		}
		out[v] = n
	}
	return out, nil
}

// quote makes s a double-quoted string of the filter language.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
