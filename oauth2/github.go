package oauth2

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	xoauth2 "golang.org/x/oauth2"
)

func init() {
	register("github", func(_ context.Context, cfg Config, hc *http.Client) (Provider, error) {
		userURL := strings.TrimSuffix(or(cfg.UserInfoURL, "https://api.github.com/user"), "/")
		return &githubProvider{
			base: newBase("github", "GitHub", cfg, hc, xoauth2.Endpoint{
				AuthURL:  "https://github.com/login/oauth/authorize",
				TokenURL: "https://github.com/login/oauth/access_token",
			}, []string{"read:user", "user:email"}),
			userURL:   userURL,
			emailsURL: or(cfg.Extra["emailsURL"], userURL+"/emails"),
		}, nil
	})
}

// githubProvider is the "github" provider: GitHub OAuth apps. The profile
// comes from /user and the e-mail from /user/emails: the primary address if
// GitHub marks it verified. Without one, the public profile e-mail is
// returned as unverified. Config.UserInfoURL replaces
// https://api.github.com/user (the e-mail list is its "/emails"), which also
// serves GitHub Enterprise.
type githubProvider struct {
	base
	userURL, emailsURL string
}

// User implements Provider.
func (p *githubProvider) User(ctx context.Context, tok *Token) (*User, error) {
	var v struct {
		ID        json.Number `json:"id"`
		Login     string      `json:"login"`
		Name      string      `json:"name"`
		Email     string      `json:"email"`
		AvatarURL string      `json:"avatar_url"`
	}
	raw, err := p.getJSON(ctx, p.userURL, tok.AccessToken, &v)
	if err != nil {
		return nil, err
	}
	if v.ID == "" {
		return nil, fmt.Errorf("%w: github: no user id", ErrUserInfo)
	}
	u := &User{ID: v.ID.String(), Name: v.Name, Username: v.Login, Email: v.Email, AvatarURL: v.AvatarURL, Raw: raw}

	body, err := p.fetch(ctx, p.emailsURL, tok.AccessToken)
	if err != nil {
		return nil, err
	}
	var emails []struct {
		Email    string `json:"email"`
		Primary  bool   `json:"primary"`
		Verified bool   `json:"verified"`
	}
	if err := json.Unmarshal(body, &emails); err != nil {
		return nil, fmt.Errorf("%w: github: decoding e-mails: %v", ErrUserInfo, err)
	}
	for _, e := range emails {
		if e.Primary && e.Verified && e.Email != "" {
			u.Email, u.EmailVerified = e.Email, true
			break
		}
	}
	return u, nil
}
