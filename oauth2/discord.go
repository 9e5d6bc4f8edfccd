package oauth2

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	xoauth2 "golang.org/x/oauth2"
)

func init() {
	register("discord", func(_ context.Context, cfg Config, hc *http.Client) (Provider, error) {
		return &discordProvider{
			base: newBase("discord", "Discord", cfg, hc, xoauth2.Endpoint{
				AuthURL:  "https://discord.com/oauth2/authorize",
				TokenURL: "https://discord.com/api/oauth2/token",
			}, []string{"identify", "email"}),
			userURL: or(cfg.UserInfoURL, "https://discord.com/api/users/@me"),
		}, nil
	})
}

// discordProvider is the "discord" provider (/users/@me). Discord reports
// whether the e-mail is verified; the name is the global display name,
// falling back to the username.
type discordProvider struct {
	base
	userURL string
}

// User implements Provider.
func (p *discordProvider) User(ctx context.Context, tok *Token) (*User, error) {
	var v struct {
		ID         string `json:"id"`
		Username   string `json:"username"`
		GlobalName string `json:"global_name"`
		Email      string `json:"email"`
		Verified   bool   `json:"verified"`
		Avatar     string `json:"avatar"`
	}
	raw, err := p.getJSON(ctx, p.userURL, tok.AccessToken, &v)
	if err != nil {
		return nil, err
	}
	if v.ID == "" {
		return nil, fmt.Errorf("%w: discord: no user id", ErrUserInfo)
	}
	u := &User{
		ID:            v.ID,
		Name:          or(v.GlobalName, v.Username),
		Username:      v.Username,
		Email:         v.Email,
		EmailVerified: v.Email != "" && v.Verified,
		Raw:           raw,
	}
	if v.Avatar != "" {
		u.AvatarURL = "https://cdn.discordapp.com/avatars/" + url.PathEscape(v.ID) + "/" + url.PathEscape(v.Avatar) + ".png"
	}
	return u, nil
}
