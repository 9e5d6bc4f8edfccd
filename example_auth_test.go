package plinth_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/plinthdev/plinth"
	"github.com/plinthdev/plinth/authflow"
	"github.com/plinthdev/plinth/record"
	"github.com/plinthdev/plinth/store"
)

// Auth flows from Go: sign a user up through the record service, then log
// in with a password through app.Auth(), the service behind the REST auth
// endpoints. A Before login hook refuses one user; an After hook sees
// every login.
func ExampleApp_Auth() {
	app, done := exampleApp()
	defer done()
	ctx := context.Background()
	users := app.Store().Schema().Lookup("users")
	for _, email := range []string{"ann@example.com", "bob@example.com"} {
		err := app.Store().Tx(ctx, func(tx *store.Tx) error {
			_, err := app.Records().Create(ctx, tx, record.SystemCaller(), users, map[string]any{
				"email": email, "password": "user-password-1", "passwordConfirm": "user-password-1"})
			return err
		})
		if err != nil {
			fmt.Println(err)
			return
		}
	}
	app.OnAuthLogin("users").Before(func(e *plinth.AuthEvent) error {
		if e.Record.GetString("email") == "bob@example.com" {
			return plinth.Refuse(403, "This account is suspended.")
		}
		return nil
	})
	app.OnAuthLogin().After(func(e *plinth.AuthEvent) error {
		fmt.Println("login:", e.Record.GetString("email"), "by", e.Method, "from", e.ClientIP)
		return nil
	})

	res, err := app.Auth().PasswordLogin(ctx, record.SystemCaller(), users,
		"ann@example.com", "user-password-1", authflow.Client{IP: "192.0.2.10"})
	fmt.Println(err, res != nil && res.Token != "")

	_, err = app.Auth().PasswordLogin(ctx, record.SystemCaller(), users,
		"ann@example.com", "wrong-password", authflow.Client{IP: "192.0.2.10"})
	var ae *authflow.Error
	fmt.Println(errors.As(err, &ae) && ae.Kind == authflow.Invalid, err)

	_, err = app.Auth().PasswordLogin(ctx, record.SystemCaller(), users,
		"bob@example.com", "user-password-1", authflow.Client{})
	var he *plinth.HookError
	fmt.Println(errors.As(err, &he) && he.Status == 403, err)
	// Output:
	// login: ann@example.com by password from 192.0.2.10
	// <nil> true
	// true Failed to authenticate.
	// true 403: This account is suspended.
}
