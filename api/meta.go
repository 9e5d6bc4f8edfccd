package api

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// collectionScaffolds is GET /api/collections/meta/scaffolds: the empty
// base, auth and view collections a new one starts from, as PocketBase's
// dashboard asks for them.
func (s *Server) collectionScaffolds(w http.ResponseWriter, r *http.Request) error {
	out := map[string]*schema.Collection{}
	for _, typ := range []string{schema.TypeBase, schema.TypeAuth, schema.TypeView} {
		c, err := store.Scaffold(typ)
		if err != nil {
			return err
		}
		out[typ] = c
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// dryRunView is POST /api/collections/meta/dry-run-view: the view
// collection the body would become (its fields inferred from viewQuery),
// with nothing stored, so an editor can show the fields while the query is
// written. A bad query is the same 400 that saving it would give.
func (s *Server) dryRunView(w http.ResponseWriter, r *http.Request) error {
	data, err := s.readRaw(w, r)
	if err != nil {
		return err
	}
	// The body is a view whether or not it says so (the view query is
	// only read from views).
	var body map[string]json.RawMessage
	if err := json.Unmarshal(data, &body); err != nil || body == nil {
		return &Error{Status: http.StatusBadRequest, Message: "Failed to load the submitted data due to invalid formatting."}
	}
	body["type"] = json.RawMessage(`"view"`)
	if data, err = json.Marshal(body); err != nil {
		return err
	}
	var c schema.Collection
	if err := unmarshalCollection(data, &c); err != nil {
		return err
	}
	out, err := s.store.DryRunView(r.Context(), &c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// oauth2ProviderInfo is one entry of GET /api/collections/meta/oauth2-providers.
type oauth2ProviderInfo struct {
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
}

// oauth2ProviderList is GET /api/collections/meta/oauth2-providers: the
// providers an auth collection may configure.
func (s *Server) oauth2ProviderList(w http.ResponseWriter, r *http.Request) error {
	names := s.oauth2.registry.Names()
	out := make([]oauth2ProviderInfo, 0, len(names))
	for _, n := range names {
		out = append(out, oauth2ProviderInfo{Name: n, DisplayName: providerDisplayName(n)})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// providerNames are the names people know the built-in providers by.
// (Instantiating a provider to ask would run OIDC discovery over the
// network for some of them.)
var providerNames = map[string]string{
	"apple": "Apple", "discord": "Discord", "facebook": "Facebook", "github": "GitHub", "gitlab": "GitLab",
	"google": "Google", "microsoft": "Microsoft", "oidc": "OpenID Connect", "x": "X",
}

func providerDisplayName(name string) string {
	if d, ok := providerNames[name]; ok {
		return d
	}
	if name == "" {
		return name
	}
	return strings.ToUpper(name[:1]) + name[1:]
}
