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
	register("gitlab", func(_ context.Context, cfg Config, hc *http.Client) (Provider, error) {
		baseURL := strings.TrimSuffix(or(cfg.Issuer, "https://gitlab.com"), "/")
		return &gitlabProvider{
			base: newBase("gitlab", "GitLab", cfg, hc, xoauth2.Endpoint{
				AuthURL:  baseURL + "/oauth/authorize",
				TokenURL: baseURL + "/oauth/token",
			}, []string{"read_user"}),
			userURL: or(cfg.UserInfoURL, baseURL+"/api/v4/user"),
		}, nil
	})
}

// gitlabProvider is the "gitlab" provider, using the REST API's /user.
// Config.Issuer is the instance URL (default https://gitlab.com) so that a
// self-managed GitLab needs only that. The e-mail counts as verified when
// GitLab reports it confirmed (confirmed_at set).
type gitlabProvider struct {
	base
	userURL string
}

// User implements Provider.
func (p *gitlabProvider) User(ctx context.Context, tok *Token) (*User, error) {
	var v struct {
		ID          json.Number `json:"id"`
		Username    string      `json:"username"`
		Name        string      `json:"name"`
		Email       string      `json:"email"`
		AvatarURL   string      `json:"avatar_url"`
		ConfirmedAt *string     `json:"confirmed_at"`
	}
	raw, err := p.getJSON(ctx, p.userURL, tok.AccessToken, &v)
	if err != nil {
		return nil, err
	}
	if v.ID == "" {
		return nil, fmt.Errorf("%w: gitlab: no user id", ErrUserInfo)
	}
	return &User{
		ID:            v.ID.String(),
		Name:          v.Name,
		Username:      v.Username,
		Email:         v.Email,
		EmailVerified: v.Email != "" && v.ConfirmedAt != nil && *v.ConfirmedAt != "",
		AvatarURL:     v.AvatarURL,
		Raw:           raw,
	}, nil
}
