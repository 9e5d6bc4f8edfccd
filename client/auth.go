package client

import "context"

// AuthResult is the answer of a successful sign-in or refresh.
type AuthResult struct {
	// Token is the record's auth token (a JWT), now also the client's.
	Token string `json:"token"`
	// Record is the signed-in auth record.
	Record Record `json:"record"`
	// Meta carries extra data some sign-in methods return (OAuth2).
	Meta map[string]any `json:"meta,omitempty"`
}

// AuthWithPassword signs in to an auth collection ("users", or
// "_superusers" for a superuser) with an identity (the email, or another
// identity field of the collection) and a password. On success the client
// keeps the token and sends it with every later request. When the
// collection requires a second factor the error is a 401 [*Error] whose
// MFAID is set.
func (c *Client) AuthWithPassword(ctx context.Context, collection, identity, password string) (*AuthResult, error) {
	body := map[string]string{"identity": identity, "password": password}
	return c.auth(ctx, opAuthWithPassword, collection, body)
}

// AuthRefresh exchanges the client's current token, of a record of
// collection, for a fresh one, which the client then keeps; it also
// returns the record as it is now.
func (c *Client) AuthRefresh(ctx context.Context, collection string) (*AuthResult, error) {
	return c.auth(ctx, opAuthRefresh, collection, nil)
}

func (c *Client) auth(ctx context.Context, o op, collection string, body any) (*AuthResult, error) {
	var res AuthResult
	if err := c.call(ctx, o, []string{collection}, nil, body, &res); err != nil {
		return nil, err
	}
	c.SetToken(res.Token)
	return &res, nil
}
