package record

import "github.com/plinthdev/plinth/filter"

// withBody returns the caller that a write of body is checked as: when the
// caller carries no @request.body (a Go caller, such as App.Caller of a
// custom route, which has not read the request as a record body), rules
// read body as @request.body, as they do for the REST API, which passes
// the body it decoded. Otherwise a rule such as
// "@request.body.owner = @request.auth.id" would refuse every Go write
// made on a user's behalf. The caller itself is left unchanged.
func withBody(caller *Caller, body map[string]any) *Caller {
	if caller == nil || body == nil || (caller.Request != nil && caller.Request.Body != nil) {
		return caller
	}
	c := *caller
	info := filter.RequestInfo{Auth: caller.Auth, Context: "default"}
	if caller.Request != nil {
		info = *caller.Request
	}
	info.Body = body
	c.Request = &info
	return &c
}
