package record

import (
	"context"
	"errors"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// checkProtected guards the system fields of auth records that only
// managers may write directly. A manager is a superuser, an API key whose
// scopes grant the action, or a caller for whom the collection's
// manageRule holds for the record (evaluated in tx: on create against the
// would-be record, on update against the stored one). Anyone else
//
//   - cannot set verified (it is earned through confirm-verification),
//   - cannot change email (request-email-change / confirm-email-change),
//   - must send the current password as oldPassword to set a new one.
//
// emailVisibility stays the owner's to set. current is nil on create,
// when r has already been inserted; on update r is the record to be
// written and body the request body (for oldPassword).
func (s *Service) checkProtected(ctx context.Context, tx *store.Tx, caller *Caller, c *schema.Collection, current, r *schema.Record, body map[string]any) error {
	if !c.IsAuth() {
		return nil
	}
	var verifiedChanged, emailChanged, passwordChanged bool
	if current == nil {
		verifiedChanged = r.Get("verified") == true
	} else {
		verifiedChanged = r.Get("verified") != current.Get("verified")
		emailChanged = r.GetString("email") != current.GetString("email")
		_, passwordChanged = r.PlainPassword("password")
	}
	if !verifiedChanged && !emailChanged && !passwordChanged {
		return nil
	}
	action := auth.ActionUpdate
	if current == nil {
		action = auth.ActionCreate
	}
	manager, err := s.isManager(ctx, tx, caller, c, r.ID(), action)
	if err != nil || manager {
		return err
	}
	errs := schema.Errors{}
	if verifiedChanged {
		errs.Add("verified", schema.NewFieldError("validation_manager_only",
			"Only superusers and managers can change the verified state; use request-verification."))
	}
	if emailChanged {
		errs.Add("email", schema.NewFieldError("validation_manager_only",
			"Only superusers and managers can change the email directly; use request-email-change."))
	}
	if passwordChanged {
		old, _ := body["oldPassword"].(string)
		switch {
		case old == "":
			errs.Add("oldPassword", schema.ErrRequired())
		case !s.checkOldPassword(ctx, c, current.GetString("password"), old):
			errs.Add("oldPassword", schema.NewFieldError("validation_invalid_old_password", "Missing or invalid old password."))
		}
	}
	return errs.OrNil()
}

// isManager reports whether caller may manage the auth record with id of
// c: superusers and in-scope API keys always, others when c's manageRule
// is set and holds for the record as tx sees it.
func (s *Service) isManager(ctx context.Context, tx *store.Tx, caller *Caller, c *schema.Collection, id, action string) (bool, error) {
	var manageRule *string
	if c.Auth != nil {
		manageRule = c.Auth.ManageRule
	}
	filters, err := rule(caller, c, action, manageRule)
	if errors.Is(err, ErrSuperusersOnly) || errors.Is(err, ErrOutOfScope) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if len(filters) == 0 {
		return true, nil
	}
	return tx.Matches(ctx, c, id, caller.Request, filters...)
}
