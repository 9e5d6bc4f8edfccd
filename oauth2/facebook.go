package oauth2

import (
	"context"
	"fmt"
	"net/http"

	xoauth2 "golang.org/x/oauth2"
)

// facebookGraph is the Graph API version used for the default endpoints.
const facebookGraph = "v22.0"

func init() {
	register("facebook", func(_ context.Context, cfg Config, hc *http.Client) (Provider, error) {
		return &facebookProvider{
			base: newBase("facebook", "Facebook", cfg, hc, xoauth2.Endpoint{
				AuthURL:  "https://www.facebook.com/" + facebookGraph + "/dialog/oauth",
				TokenURL: "https://graph.facebook.com/" + facebookGraph + "/oauth/access_token",
			}, []string{"email", "public_profile"}),
			userURL: or(cfg.UserInfoURL, "https://graph.facebook.com/"+facebookGraph+"/me?fields=id,name,email,picture.type(large)"),
		}, nil
	})
}

// facebookProvider is the "facebook" provider (Graph API /me). The Graph
// API returns the email field only for an address the user has confirmed
// with Facebook, so a returned e-mail counts as verified. The user must
// also grant the email permission, else there is no e-mail.
type facebookProvider struct {
	base
	userURL string
}

// User implements Provider.
func (p *facebookProvider) User(ctx context.Context, tok *Token) (*User, error) {
	var v struct {
		ID      string `json:"id"`
		Name    string `json:"name"`
		Email   string `json:"email"`
		Picture struct {
			Data struct {
				URL string `json:"url"`
			} `json:"data"`
		} `json:"picture"`
	}
	raw, err := p.getJSON(ctx, p.userURL, tok.AccessToken, &v)
	if err != nil {
		return nil, err
	}
	if v.ID == "" {
		return nil, fmt.Errorf("%w: facebook: no user id", ErrUserInfo)
	}
	return &User{
		ID:            v.ID,
		Name:          v.Name,
		Email:         v.Email,
		EmailVerified: v.Email != "",
		AvatarURL:     v.Picture.Data.URL,
		Raw:           raw,
	}, nil
}
