package plinth

import "context"

// InstallerToken issues the one-time token of the dashboard's installer
// link (http://HOST/_/#/install/TOKEN), with which the first superuser is
// created in the browser; it returns "" when a superuser already exists.
// A new call replaces the previous token.
func (a *App) InstallerToken(ctx context.Context) (string, error) {
	return a.srv.InstallerToken(ctx)
}
