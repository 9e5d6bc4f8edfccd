package client

import (
	"net/url"
	"strings"
)

// Operation is one operation of the API as the OpenAPI document names it:
// an HTTP method and a path template whose {parameters} the client fills
// in, escaped.
type Operation struct {
	// Method is the HTTP method, e.g. "GET".
	Method string
	// Path is the document's path template, e.g.
	// "/api/collections/{collection}/records/{id}".
	Path string
}

// op names an operation of the table in operationTable.
type op int

const (
	opHealth op = iota
	opAuthWithPassword
	opAuthRefresh
	opList
	opView
	opCreate
	opUpdate
	opDelete
	opBatch
	opCollections
	opCollection
	numOps
)

// operationTable is the one list of the operations the client calls; the
// request paths are built from it, so the client cannot call a path that
// is not listed here, and the tests check every entry against the
// document. It is a function, not a variable, so that nothing can change
// it.
func operationTable() [numOps]Operation {
	return [numOps]Operation{
		opHealth:           {"GET", "/api/health"},
		opAuthWithPassword: {"POST", "/api/collections/{collection}/auth-with-password"},
		opAuthRefresh:      {"POST", "/api/collections/{collection}/auth-refresh"},
		opList:             {"GET", "/api/collections/{collection}/records"},
		opView:             {"GET", "/api/collections/{collection}/records/{id}"},
		opCreate:           {"POST", "/api/collections/{collection}/records"},
		opUpdate:           {"PATCH", "/api/collections/{collection}/records/{id}"},
		opDelete:           {"DELETE", "/api/collections/{collection}/records/{id}"},
		opBatch:            {"POST", "/api/batch"},
		opCollections:      {"GET", "/api/collections"},
		opCollection:       {"GET", "/api/collections/{collection}"},
	}
}

// Operations returns the operations the client calls (every method but
// [Client.Send]), each with the method and path template under which the
// OpenAPI document describes it. The slice is new on each call.
func Operations() []Operation {
	t := operationTable()
	return append([]Operation(nil), t[:]...)
}

// request returns the request's method and its path: o's template with
// its parameters replaced, in order, by args, each path-escaped.
func (o op) request(args ...string) (method, path string) {
	spec := operationTable()[o]
	var b strings.Builder
	rest := spec.Path
	for _, a := range args {
		i := strings.IndexByte(rest, '{')
		j := strings.IndexByte(rest, '}')
		if i < 0 || j < i {
			panic("client: too many arguments for " + spec.Path)
		}
		b.WriteString(rest[:i])
		b.WriteString(url.PathEscape(a))
		rest = rest[j+1:]
	}
	if strings.IndexByte(rest, '{') >= 0 {
		panic("client: too few arguments for " + spec.Path)
	}
	b.WriteString(rest)
	return spec.Method, b.String()
}
