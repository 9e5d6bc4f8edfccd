package authflow

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/plinthdev/plinth/mailer"
	"github.com/plinthdev/plinth/schema"
	"github.com/plinthdev/plinth/store"
)

// New-device login alerts, as PocketBase's authAlert: every login notes
// its device (a fingerprint of user agent and IP) in _authOrigins; a login
// from a device the record has not used, by a record that has signed in
// before from elsewhere, emails the record's owner. The first login ever
// only records its device: there is nothing to compare it with.

// originFingerprint identifies a device without storing its address or
// user agent in clear.
func originFingerprint(client Client) string {
	sum := sha256.Sum256([]byte(client.UserAgent + "\x00" + client.IP))
	return hex.EncodeToString(sum[:])
}

// noteOrigin records the device of a successful login and sends the alert
// when it is new. A failure is logged: the login stands.
func (s *Service) noteOrigin(ctx context.Context, c *schema.Collection, rec *schema.Record, method string, client Client) {
	if !Options(c).AuthAlert.Enabled {
		return
	}
	origins := s.systemCollection(authOriginsCollection)
	to := rec.GetString("email")
	if origins == nil || to == "" {
		return
	}
	fp := originFingerprint(client)
	var isNew, seenBefore bool
	err := s.Store.Tx(ctx, func(tx *store.Tx) error {
		match := map[string]any{"collectionRef": c.ID, "recordRef": rec.ID(), "fingerprint": fp}
		known, err := tx.FindFirst(ctx, origins, match)
		if err == nil {
			// Seen: refresh its "updated" so that old devices can be told
			// from recent ones.
			schema.Prepare(known, false, time.Now())
			return tx.Update(ctx, known)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		page, err := tx.List(ctx, store.ListQuery{Collection: origins, Filters: []string{refFilter},
			Request: refInfo(c, rec.ID(), nil), Page: 1, PerPage: 1, SkipTotal: true})
		if err != nil {
			return err
		}
		isNew, seenBefore = true, len(page.Items) > 0
		row := schema.NewRecord(origins)
		schema.Prepare(row, true, time.Now())
		for k, v := range match {
			row.Set(k, v)
		}
		return tx.Insert(ctx, row)
	})
	if err != nil {
		s.logger().Error("auth alert: recording the login's device failed", "collection", c.Name, "record", rec.ID(), "err", err)
		return
	}
	if !isNew || !seenBefore {
		return
	}
	info := fmt.Sprintf("%s, signed in with %s from %s (%s)", time.Now().UTC().Format("2006-01-02 15:04 MST"), method, client.IP, client.UserAgent)
	s.sendMail("auth alert", rec.ID(), to, func(app mailer.AppInfo) (mailer.Email, error) {
		return MailTemplates(c).LoginAlertEmail(app, to, info)
	})
}
