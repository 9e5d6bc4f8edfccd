package record

import (
	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/schema"
)

// systemCollection stands for _superusers in System callers.
var systemCollection = &schema.Collection{ID: auth.SuperusersID, Name: "_superusers", Type: schema.TypeAuth}

// System returns a caller with superuser powers for the server's own
// writes: an auth flow that has already proven its right to act (a valid
// verification, reset or email-change token) updates the record through
// the same validation, hashing and token-key rotation as any update. It is
// never built from a request's credentials.
func System() *Caller {
	return &Caller{Auth: schema.NewRecord(systemCollection)}
}
