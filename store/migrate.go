package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/plinthdev/plinth/schema"
)

// migration is one versioned, forward-only change to the system tables.
// Versions are applied in order, each in its own transaction, and recorded
// in _migrations; a database newer than the binary is refused.
type migration struct {
	version int
	name    string
	up      func(ctx context.Context, s *Store, tx *sql.Tx) error
}

var migrations = []migration{
	{1, "system tables", func(ctx context.Context, s *Store, tx *sql.Tx) error {
		for _, q := range []string{
			`CREATE TABLE _params (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)`,
			`CREATE TABLE _collections (
				id TEXT PRIMARY KEY NOT NULL,
				name TEXT NOT NULL,
				definition TEXT NOT NULL,
				seq INTEGER NOT NULL,
				created TEXT NOT NULL,
				updated TEXT NOT NULL)`,
			`CREATE UNIQUE INDEX _collections_name ON _collections (LOWER(name))`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		return nil
	}},
	{2, "superusers and users collections", func(ctx context.Context, s *Store, tx *sql.Tx) error {
		snap := newSchema(nil)
		for _, def := range []string{superusersCollection, usersCollection} {
			c := &schema.Collection{}
			if err := c.UnmarshalJSON([]byte(def)); err != nil {
				return fmt.Errorf("system collection definition: %w", err)
			}
			saved, err := s.saveCollectionTx(ctx, tx, snap, c)
			if err != nil {
				return err
			}
			snap = newSchema(append(snap.list, saved))
		}
		return nil
	}},
	{3, "auth system collections", func(ctx context.Context, s *Store, tx *sql.Tx) error {
		if err := s.reloadSchema(ctx, tx); err != nil {
			return err
		}
		snap := s.Schema()
		for _, def := range []string{externalAuthsCollection, mfasCollection, otpsCollection, totpsCollection, apiKeysCollection} {
			c := &schema.Collection{}
			if err := c.UnmarshalJSON([]byte(def)); err != nil {
				return fmt.Errorf("system collection definition: %w", err)
			}
			saved, err := s.saveCollectionTx(ctx, tx, snap, c)
			if err != nil {
				return fmt.Errorf("collection %s: %w", c.Name, err)
			}
			snap = newSchema(append(snap.list, saved))
		}
		return nil
	}},
	{4, "otp attempts", func(ctx context.Context, s *Store, tx *sql.Tx) error {
		// Failed tries of a one-time password are counted on its row, so
		// that a code dies after a few wrong guesses.
		if err := s.reloadSchema(ctx, tx); err != nil {
			return err
		}
		snap := s.Schema()
		otps := snap.Lookup("_otps")
		if otps == nil {
			return fmt.Errorf("collection _otps is missing")
		}
		c := otps.Clone()
		var f schema.Field
		if err := f.UnmarshalJSON([]byte(`{"id": "number_attempts", "name": "attempts", "type": "number", "system": true, "hidden": true, "onlyInt": true}`)); err != nil {
			return err
		}
		c.Fields = append(c.Fields, &f)
		_, err := s.saveCollectionTx(ctx, tx, snap, c)
		return err
	}},
	// River's version 006 uses an enum value its 004 adds, which
	// PostgreSQL refuses in the transaction that added it: two steps.
	{5, "job queue (River) up to its version 5", func(ctx context.Context, s *Store, tx *sql.Tx) error {
		return migrateRiver(ctx, s, tx, 5)
	}},
	{6, "job queue (River), outbox and webhooks", func(ctx context.Context, s *Store, tx *sql.Tx) error {
		if err := migrateRiver(ctx, s, tx, 0); err != nil {
			return err
		}
		return jobsTables(ctx, s, tx)
	}},
	{7, "auth origins", func(ctx context.Context, s *Store, tx *sql.Tx) error {
		return addSystemCollections(ctx, s, tx, authOriginsCollection)
	}},
	{8, "row counts", func(ctx context.Context, s *Store, tx *sql.Tx) error {
		if err := s.reloadSchema(ctx, tx); err != nil {
			return err
		}
		for _, c := range s.Schema().list {
			if err := s.keepRowCount(ctx, tx, c); err != nil {
				return err
			}
		}
		return nil
	}},
}

// addSystemCollections creates system collections from their definitions.
func addSystemCollections(ctx context.Context, s *Store, tx *sql.Tx, defs ...string) error {
	if err := s.reloadSchema(ctx, tx); err != nil {
		return err
	}
	snap := s.Schema()
	for _, def := range defs {
		c := &schema.Collection{}
		if err := c.UnmarshalJSON([]byte(def)); err != nil {
			return fmt.Errorf("system collection definition: %w", err)
		}
		saved, err := s.saveCollectionTx(ctx, tx, snap, c)
		if err != nil {
			return fmt.Errorf("collection %s: %w", c.Name, err)
		}
		snap = newSchema(append(snap.list, saved))
	}
	return nil
}

// migrate applies pending migrations. On PostgreSQL an advisory lock keeps
// instances that start together from racing.
func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY NOT NULL, name TEXT NOT NULL, applied TEXT NOT NULL)`); err != nil {
		return err
	}
	for _, m := range migrations {
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			if s.dialect.Name() == "postgres" {
				if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7263541)`); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, s.rebind(`SELECT COUNT(*) FROM _migrations WHERE version = ?`), m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if err := m.up(ctx, s, tx); err != nil {
				return fmt.Errorf("migration %d (%s): %w", m.version, m.name, err)
			}
			_, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO _migrations (version, name, applied) VALUES (?, ?, ?)`),
				m.version, m.name, schema.FormatDate(time.Now()))
			return err
		})
		if err != nil {
			return err
		}
	}
	var newest int
	if err := s.write.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM _migrations`).Scan(&newest); err != nil {
		return err
	}
	if newest > migrations[len(migrations)-1].version {
		return fmt.Errorf("the database is at migration %d, newer than this binary knows (%d): upgrade Plinth", newest, migrations[len(migrations)-1].version)
	}
	return nil
}

// inTx runs fn in a transaction on the writer, committing when fn returns nil.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	s.writeGen.Add(1)
	if s.checkpointer != nil {
		s.checkpointer.committed()
	}
	return nil
}

// WriteGeneration counts the write transactions this store has committed
// (records, collections, imports, restores), so that a cache of what was
// read can tell whether anything was written since: read it before the
// read, and the answer is current while it has not changed. Writes made
// to the database by anything else (another process, another instance,
// SQL through DB()) are not counted.
func (s *Store) WriteGeneration() uint64 { return s.writeGen.Load() }

// rebind rewrites ? placeholders for the dialect. It is only used on fixed
// SQL written in this package, never on text that holds user input.
func (s *Store) rebind(q string) string {
	if s.dialect.Name() != "postgres" {
		return q
	}
	out := make([]byte, 0, len(q)+8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out = append(out, s.dialect.Placeholder(n)...)
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}

// The system collections, in PocketBase's JSON shape. _superusers keeps
// PocketBase's fixed id because the SDK recognises superuser tokens by it.
const superusersCollection = `{
 "id": "pbc_3142635823", "name": "_superusers", "type": "auth", "system": true,
 "listRule": null, "viewRule": null, "createRule": null, "updateRule": null, "deleteRule": null,
 "authRule": "", "manageRule": null,
 "passwordAuth": {"enabled": true, "identityFields": ["email"]},
 "authToken": {"duration": 86400},
 "indexes": ["CREATE UNIQUE INDEX idx_tokenKey_pbc_3142635823 ON _superusers (tokenKey)",
  "CREATE UNIQUE INDEX idx_email_pbc_3142635823 ON _superusers (email) WHERE email != ''"],
 "fields": [` + authFields + `]}`

const usersCollection = `{
 "id": "_pb_users_auth_", "name": "users", "type": "auth", "system": false,
 "listRule": "id = @request.auth.id", "viewRule": "id = @request.auth.id", "createRule": "",
 "updateRule": "id = @request.auth.id", "deleteRule": "id = @request.auth.id",
 "authRule": "", "manageRule": null,
 "passwordAuth": {"enabled": true, "identityFields": ["email"]},
 "authToken": {"duration": 604800},
 "indexes": ["CREATE UNIQUE INDEX idx_tokenKey__pb_users_auth_ ON users (tokenKey)",
  "CREATE UNIQUE INDEX idx_email__pb_users_auth_ ON users (email) WHERE email != ''"],
 "fields": [` + authFields + `,
  {"id": "text1579384326", "name": "name", "type": "text", "max": 255},
  {"id": "file376926767", "name": "avatar", "type": "file", "maxSelect": 1, "maxSize": 0,
   "mimeTypes": ["image/jpeg", "image/png", "image/svg+xml", "image/gif", "image/webp"]}
 ]}`

const authFields = `
  {"id": "text3208210256", "name": "id", "type": "text", "system": true, "required": true, "primaryKey": true,
   "autogeneratePattern": "[a-z0-9]{15}", "pattern": "^[a-z0-9]+$", "min": 15, "max": 15},
  {"id": "password901924565", "name": "password", "type": "password", "system": true, "hidden": true, "required": true, "min": 8},
  {"id": "text2504183744", "name": "tokenKey", "type": "text", "system": true, "hidden": true, "required": true,
   "autogeneratePattern": "[a-zA-Z0-9]{50}", "min": 30, "max": 60},
  {"id": "email3885137012", "name": "email", "type": "email", "system": true, "required": true},
  {"id": "bool1547992806", "name": "emailVisibility", "type": "bool", "system": true},
  {"id": "bool256245529", "name": "verified", "type": "bool", "system": true},
  {"id": "autodate2990389176", "name": "created", "type": "autodate", "system": true, "onCreate": true, "onUpdate": false},
  {"id": "autodate3332085495", "name": "updated", "type": "autodate", "system": true, "onCreate": true, "onUpdate": true}`

// ownerRule lets an auth record see its own rows of an auth system collection.
const ownerRule = `"@request.auth.id != '' && recordRef = @request.auth.id && collectionRef = @request.auth.collectionId"`

// refFields are the collectionRef/recordRef pair that ties a system row to
// an auth record (plain text, not relations: they may point at any auth
// collection).
const refFields = `
  {"id": "text_id", "name": "id", "type": "text", "system": true, "required": true, "primaryKey": true,
   "autogeneratePattern": "[a-z0-9]{15}", "pattern": "^[a-z0-9]+$", "min": 15, "max": 15},
  {"id": "text_collref", "name": "collectionRef", "type": "text", "system": true, "required": true},
  {"id": "text_recordref", "name": "recordRef", "type": "text", "system": true, "required": true}`

const autodateFields = `
  {"id": "autodate_created", "name": "created", "type": "autodate", "system": true, "onCreate": true, "onUpdate": false},
  {"id": "autodate_updated", "name": "updated", "type": "autodate", "system": true, "onCreate": true, "onUpdate": true}`

// _externalAuths links auth records to OAuth2 accounts.
const externalAuthsCollection = `{
 "id": "sys_externalauths", "name": "_externalAuths", "type": "base", "system": true,
 "listRule": ` + ownerRule + `, "viewRule": ` + ownerRule + `, "createRule": null, "updateRule": null, "deleteRule": ` + ownerRule + `,
 "indexes": ["CREATE UNIQUE INDEX idx_externalauths_record_provider ON _externalAuths (collectionRef, recordRef, provider)",
  "CREATE UNIQUE INDEX idx_externalauths_provider_id ON _externalAuths (collectionRef, provider, providerId)"],
 "fields": [` + refFields + `,
  {"id": "text_provider", "name": "provider", "type": "text", "system": true, "required": true},
  {"id": "text_providerid", "name": "providerId", "type": "text", "system": true, "required": true},` + autodateFields + `]}`

// _mfas holds the first factor of a pending multi-factor login.
const mfasCollection = `{
 "id": "sys_mfas", "name": "_mfas", "type": "base", "system": true,
 "listRule": null, "viewRule": null, "createRule": null, "updateRule": null, "deleteRule": null,
 "indexes": ["CREATE INDEX idx_mfas_record ON _mfas (collectionRef, recordRef)"],
 "fields": [` + refFields + `,
  {"id": "text_method", "name": "method", "type": "text", "system": true, "required": true},` + autodateFields + `]}`

// _authOrigins holds the devices (a hash of user agent and IP) each auth
// record signed in from, for new-device alerts; an owner may list and
// forget its own.
const authOriginsCollection = `{
 "id": "sys_authorigins", "name": "_authOrigins", "type": "base", "system": true,
 "listRule": ` + ownerRule + `, "viewRule": ` + ownerRule + `, "createRule": null, "updateRule": null, "deleteRule": ` + ownerRule + `,
 "indexes": ["CREATE UNIQUE INDEX idx_authorigins_record_fingerprint ON _authOrigins (collectionRef, recordRef, fingerprint)"],
 "fields": [` + refFields + `,
  {"id": "text_fingerprint", "name": "fingerprint", "type": "text", "system": true, "required": true},` + autodateFields + `]}`

// _otps holds one-time passwords (bcrypt-hashed) sent for login.
const otpsCollection = `{
 "id": "sys_otps", "name": "_otps", "type": "base", "system": true,
 "listRule": null, "viewRule": null, "createRule": null, "updateRule": null, "deleteRule": null,
 "indexes": ["CREATE INDEX idx_otps_record ON _otps (collectionRef, recordRef)"],
 "fields": [` + refFields + `,
  {"id": "password_otp", "name": "password", "type": "password", "system": true, "hidden": true, "required": true, "cost": 4},
  {"id": "text_sentto", "name": "sentTo", "type": "text", "system": true, "hidden": true},` + autodateFields + `]}`

// _totps holds TOTP enrolments (beyond PocketBase): the secret sealed with
// the app's encryption key, hashed recovery codes and the last used step.
const totpsCollection = `{
 "id": "sys_totps", "name": "_totps", "type": "base", "system": true,
 "listRule": null, "viewRule": null, "createRule": null, "updateRule": null, "deleteRule": null,
 "indexes": ["CREATE UNIQUE INDEX idx_totps_record ON _totps (collectionRef, recordRef)"],
 "fields": [` + refFields + `,
  {"id": "text_secret", "name": "secret", "type": "text", "system": true, "hidden": true, "required": true},
  {"id": "bool_confirmed", "name": "confirmed", "type": "bool", "system": true},
  {"id": "json_recovery", "name": "recoveryCodes", "type": "json", "system": true, "hidden": true},
  {"id": "number_laststep", "name": "lastStep", "type": "number", "system": true, "hidden": true, "onlyInt": true},` + autodateFields + `]}`

// _apiKeys holds server API keys (beyond PocketBase): only a SHA-256 hash
// of the secret part is stored; prefix finds the row.
const apiKeysCollection = `{
 "id": "sys_apikeys", "name": "_apiKeys", "type": "base", "system": true,
 "listRule": null, "viewRule": null, "createRule": null, "updateRule": null, "deleteRule": null,
 "indexes": ["CREATE UNIQUE INDEX idx_apikeys_prefix ON _apiKeys (prefix)"],
 "fields": [
  {"id": "text_id", "name": "id", "type": "text", "system": true, "required": true, "primaryKey": true,
   "autogeneratePattern": "[a-z0-9]{15}", "pattern": "^[a-z0-9]+$", "min": 15, "max": 15},
  {"id": "text_name", "name": "name", "type": "text", "system": true, "required": true, "max": 200},
  {"id": "text_prefix", "name": "prefix", "type": "text", "system": true, "required": true},
  {"id": "text_hash", "name": "hash", "type": "text", "system": true, "hidden": true, "required": true},
  {"id": "json_scopes", "name": "scopes", "type": "json", "system": true},
  {"id": "date_expires", "name": "expires", "type": "date", "system": true},
  {"id": "date_lastused", "name": "lastUsed", "type": "date", "system": true},` + autodateFields + `]}`
