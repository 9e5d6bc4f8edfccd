package filter_test

import (
	"fmt"
	"time"

	"github.com/plinthdev/plinth/filter"
	"github.com/plinthdev/plinth/schema"
)

func Example() {
	posts := &schema.Collection{ID: "pbc_posts", Name: "posts", Type: schema.TypeBase}
	for _, name := range []string{"id", "title"} {
		f, _ := schema.NewField("text", name)
		posts.Fields = append(posts.Fields, f)
	}
	e, err := filter.Parse(`title ~ "go" && title != @request.body.title`)
	if err != nil {
		panic(err)
	}
	env := &filter.Env{
		Dialect:    filter.Postgres,
		Collection: posts,
		Alias:      "r",
		Request:    &filter.RequestInfo{Body: map[string]any{"title": "Go"}},
		Now:        time.Now(),
	}
	p := &filter.Params{Dialect: filter.Postgres}
	where, err := filter.Compile(e, env, p)
	if err != nil {
		panic(err)
	}
	fmt.Println(where)
	fmt.Println(p.Values...)
	// Output:
	// ((COALESCE("r"."title", '') ILIKE CAST($1 AS TEXT) ESCAPE '\') AND ("r"."title" <> CAST($2 AS TEXT)))
	// %go% Go
}
