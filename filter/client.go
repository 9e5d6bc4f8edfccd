package filter

import (
	"fmt"
	"strings"

	"github.com/plinthdev/plinth/schema"
)

// Client polices an expression that an API client wrote (a list filter, a
// sort, a realtime subscription filter), as opposed to a rule a superuser
// wrote. A rule may read whatever it needs; a client's expression may read
// only what the client could read through the API, on every segment of
// every path. Anything more is an oracle: comparing a hidden value with
// `>=` one guess at a time recovers it by binary search, whatever the
// response shows.
//
// For a client that is not a superuser:
//   - hidden fields (tokenKey, password hashes, fields marked hidden) are
//     refused with a *NotAllowedError on any collection a path visits, and so
//     are @request.* and @collection.*;
//   - the email of an auth record reads as null unless its emailVisibility
//     is on, it is the client's own record, or Manage lets the client manage
//     it, so a filter equal to a hidden email and one that is not give the
//     same answer;
//   - a relation or back-relation joined from the root collection only sees
//     the rows that Rule lets the client read.
//
// For every client, superusers included, the joins are budgeted (see
// MaxCost): the cost of a filter is paid by the server, per request and,
// for realtime subscriptions, per write.
type Client struct {
	// Superuser lifts the policing of fields and rows; the budget stays.
	Superuser bool
	// Rule returns the rule a row of c must pass for the client to read it
	// through a relation: "" for every row, ok false for none. Nil: none.
	Rule func(c *schema.Collection) (rule string, ok bool)
	// Manage returns the rule under which the client may manage records of
	// the auth collection c (its manageRule): "" for every record, ok false
	// for none. Nil: none.
	Manage func(c *schema.Collection) (rule string, ok bool)
	// MaxCost bounds the summed cost of the expression's paths, where a
	// path costs its relation hops times one plus its multi-valued hops
	// (back-relations, multiple relations). 0 selects DefaultMaxCost, or
	// SuperuserMaxCost for superusers.
	MaxCost int
	// MaxNested bounds the multi-valued hops of one path: each one can
	// multiply the rows the database visits. 0 selects DefaultMaxNested, or
	// SuperuserMaxNested for superusers.
	MaxNested int
}

// Budgets of client expressions (see Client).
const (
	DefaultMaxCost     = 24
	SuperuserMaxCost   = 96
	DefaultMaxNested   = 2
	SuperuserMaxNested = 4
)

func (cl *Client) maxCost() int {
	switch {
	case cl.MaxCost > 0:
		return cl.MaxCost
	case cl.Superuser:
		return SuperuserMaxCost
	}
	return DefaultMaxCost
}

func (cl *Client) maxNested() int {
	switch {
	case cl.MaxNested > 0:
		return cl.MaxNested
	case cl.Superuser:
		return SuperuserMaxNested
	}
	return DefaultMaxNested
}

// NotAllowedError is returned when a client's expression reads what only
// superusers may query by.
type NotAllowedError struct {
	Pos  int
	What string // e.g. "hidden field tokenKey", "@request"
}

func (e *NotAllowedError) Error() string {
	return fmt.Sprintf("only superusers can filter or sort by %s (at position %d)", e.What, e.Pos)
}

// policed reports whether the expression being compiled is a non-superuser
// client's.
func (c *compiler) policed() bool { return c.env.Client != nil && !c.env.Client.Superuser }

// hop accounts for one relation hop of a path that has made nested
// multi-valued hops so far (this one included), and refuses a client
// expression that goes over its budget.
func (c *compiler) hop(id *Ident, nested int) error {
	cl := c.env.Client
	if cl == nil {
		return nil
	}
	if nested > cl.maxNested() {
		return errorf(id.P, "%q walks too many multi-valued relations (max %d in one path)", id.Name, cl.maxNested())
	}
	c.cost += 1 + nested
	if c.cost > cl.maxCost() {
		return errorf(id.P, "the expression joins too many relations (cost %d, max %d)", c.cost, cl.maxCost())
	}
	return nil
}

// readable returns the condition (SQL, "" for none) under which the client
// may read the row of coll that alias (unquoted) names.
func (c *compiler) readable(id *Ident, coll *schema.Collection, alias string) (string, error) {
	if !c.policed() {
		return "", nil
	}
	rule, ok := "", false
	if c.env.Client.Rule != nil {
		rule, ok = c.env.Client.Rule(coll)
	}
	if !ok {
		return "1=0", nil
	}
	return c.subRule(id, rule, coll, alias)
}

// emailColumn is col (the email of the auth collection coll read through
// alias) as the client may read it: null unless the address is visible,
// the client's own or one the client may manage.
func (c *compiler) emailColumn(id *Ident, coll *schema.Collection, alias, col string) (string, error) {
	q := quoteIdent(alias)
	conds := []string{}
	if f := coll.Field("emailVisibility"); f != nil && f.Type == "bool" {
		vis, err := c.subRule(id, "emailVisibility = true", coll, alias)
		if err != nil {
			return "", err
		}
		conds = append(conds, vis)
	}
	if req := c.env.Request; req != nil && req.Auth != nil && req.Auth.Collection != nil && req.Auth.Collection.ID == coll.ID {
		conds = append(conds, q+`."id" = `+c.bind(req.Auth.ID()))
	}
	if c.env.Client.Manage != nil {
		if rule, ok := c.env.Client.Manage(coll); ok {
			if strings.TrimSpace(rule) == "" {
				return col, nil
			}
			m, err := c.subRule(id, rule, coll, alias)
			if err != nil {
				return "", err
			}
			conds = append(conds, m)
		}
	}
	if len(conds) == 0 {
		return c.d.nullOf(tText), nil
	}
	return "CASE WHEN (" + strings.Join(conds, " OR ") + ") THEN " + col + " END", nil
}

// subRule compiles a superuser's rule for the row of coll that alias
// (unquoted) names, sharing this expression's parameters and aliases. ""
// compiles to "".
func (c *compiler) subRule(id *Ident, rule string, coll *schema.Collection, alias string) (string, error) {
	if strings.TrimSpace(rule) == "" {
		return "", nil
	}
	e, err := Parse(rule)
	if err != nil {
		return "", errorf(id.P, "the rule of collection %q cannot be applied to %q: %v", coll.Name, id.Name, err)
	}
	env := *c.env
	env.Collection, env.Alias, env.Client, env.Current = coll, alias, nil, nil
	if env.Request == nil {
		env.Request = &RequestInfo{}
	}
	sc, err := newCompiler(&env, true)
	if err != nil {
		return "", err
	}
	sc.vals, sc.nalias = c.vals, c.nalias
	sql, err := sc.compileTop(e)
	c.vals, c.nalias = sc.vals, sc.nalias
	if err != nil {
		return "", errorf(id.P, "the rule of collection %q cannot be applied to %q: %v", coll.Name, id.Name, err)
	}
	return "(" + sql + ")", nil
}
