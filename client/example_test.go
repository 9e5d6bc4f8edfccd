package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/client"
)

// A user signs up, signs in, finds themselves with a filter built from
// user input, and meets a typed error. The server here is a real Plinth
// app in a temporary directory; against a running server you would only
// write client.New("http://127.0.0.1:8090").
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "plinth-client-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	app, err := plinth.New(ctx, plinth.Config{DataDir: dir, BcryptCost: 4}, quiet)
	if err != nil {
		log.Fatal(err)
	}
	defer app.Close()
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()

	pb := client.New(srv.URL)
	_, err = pb.Create(ctx, "users", map[string]any{
		"email": "ada@example.com", "password": "analytical-1843", "passwordConfirm": "analytical-1843",
	})
	if err != nil {
		log.Fatal(err)
	}
	auth, err := pb.AuthWithPassword(ctx, "users", "ada@example.com", "analytical-1843")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("signed in:", auth.Record.String("email"))

	filter, err := client.Filter("email = {:email}", map[string]any{"email": "ada@example.com"})
	if err != nil {
		log.Fatal(err)
	}
	page, err := pb.List(ctx, "users", client.ListOptions{Filter: filter})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("found:", page.TotalItems, page.Items[0].ID() == auth.Record.ID())

	_, err = pb.Create(ctx, "users", map[string]any{"email": "not an email"})
	var apiErr *client.Error
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest {
		fmt.Println("rejected:", apiErr.FieldCode("email"), apiErr.FieldCode("password"))
	}
	// Output:
	// signed in: ada@example.com
	// found: 1 true
	// rejected: validation_invalid_email validation_required
}

func ExampleFilter() {
	f, err := client.Filter("title ~ {:q} && published = {:pub}", map[string]any{"q": `say "hi"`, "pub": true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f)
	// Output: title ~ "say \"hi\"" && published = true
}

func ExampleListAs() {
	type post struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	}
	ctx := context.Background()
	pb := client.New("http://127.0.0.1:8090")
	page, err := client.ListAs[post](ctx, pb, "posts", client.ListOptions{Sort: "-created", PerPage: 10})
	if err != nil {
		log.Print(err)
		return
	}
	for _, p := range page.Items {
		fmt.Println(p.ID, p.Title)
	}
}
