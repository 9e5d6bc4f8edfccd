package oauth2

import (
	"context"
	"fmt"
	"net/http"

	xoauth2 "golang.org/x/oauth2"
)

func init() {
	register("x", func(_ context.Context, cfg Config, hc *http.Client) (Provider, error) {
		return &xProvider{
			base: newBase("x", "X", cfg, hc, xoauth2.Endpoint{
				AuthURL:   "https://x.com/i/oauth2/authorize",
				TokenURL:  "https://api.x.com/2/oauth2/token",
				AuthStyle: xoauth2.AuthStyleInHeader,
			}, []string{"users.read", "tweet.read"}),
			userURL: or(cfg.UserInfoURL, "https://api.x.com/2/users/me?user.fields=profile_image_url"),
		}, nil
	})
}

// xProvider is the "x" provider: X (formerly Twitter) OAuth 2.0 with PKCE,
// profile from /2/users/me. X does not hand out the e-mail address here,
// so User.Email is empty and EmailVerified false; such logins cannot be
// linked to an existing account by e-mail.
type xProvider struct {
	base
	userURL string
}

// User implements Provider.
func (p *xProvider) User(ctx context.Context, tok *Token) (*User, error) {
	var v struct {
		Data struct {
			ID              string `json:"id"`
			Name            string `json:"name"`
			Username        string `json:"username"`
			ProfileImageURL string `json:"profile_image_url"`
		} `json:"data"`
	}
	raw, err := p.getJSON(ctx, p.userURL, tok.AccessToken, &v)
	if err != nil {
		return nil, err
	}
	if v.Data.ID == "" {
		return nil, fmt.Errorf("%w: x: no user id", ErrUserInfo)
	}
	return &User{
		ID:        v.Data.ID,
		Name:      v.Data.Name,
		Username:  v.Data.Username,
		AvatarURL: v.Data.ProfileImageURL,
		Raw:       raw,
	}, nil
}
