package record

import (
	"context"
	"sync"

	"github.com/plinthdev/plinth/auth"
	"github.com/plinthdev/plinth/schema"
)

// bcrypt costs tens to hundreds of milliseconds per password. On SQLite a
// write transaction holds the only writer for its whole length, so hashing
// inside it stalls every other write of the server (a batch of 50 sign-ups
// held it for about 6 s). HashAhead does that work before the transaction
// opens: it hashes the plain passwords a body sets and compares a given
// oldPassword with the stored hash, and Create and Update, inside the
// transaction, take the results from the context instead of calling
// bcrypt. What HashAhead could not prepare (a body it was not shown, a
// record whose hash changed in between) is still computed in the
// transaction, so the results are the same either way; only the time
// spent holding the writer differs.

type preparedKey struct{}

// prepared holds the bcrypt results computed before a transaction.
type prepared struct {
	mu     sync.Mutex
	hashes map[hashKey][]string // new hashes by collection, field and plain value, each used once
	checks map[checkKey]bool    // old-password comparisons by stored hash and candidate
}

type hashKey struct{ collection, field, plain string }

type checkKey struct{ hash, candidate string }

func preparedFrom(ctx context.Context) *prepared {
	p, _ := ctx.Value(preparedKey{}).(*prepared)
	return p
}

// takeHash returns a hash prepared for k and forgets it: each is used
// once, so that two records given the same password in one batch still
// get hashes with different salts.
func (p *prepared) takeHash(k hashKey) (string, bool) {
	if p == nil {
		return "", false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	hs := p.hashes[k]
	if len(hs) == 0 {
		return "", false
	}
	p.hashes[k] = hs[1:]
	return hs[0], true
}

func (p *prepared) check(k checkKey) (ok, found bool) {
	if p == nil {
		return false, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	ok, found = p.checks[k]
	return ok, found
}

// HashAhead prepares, outside any transaction, the bcrypt work that a
// Create (id == "") or Update (of the record with id) of body into c by
// caller will need, and returns ctx carrying it; run the write with the
// returned context. Several calls (one per request of a batch) accumulate
// in the same context, one prepared hash per call and password.
//
// Nothing is prepared for a caller the collection's rule refuses outright,
// or, on update, for a record the caller may not update: the write fails
// in the transaction without any hashing, as before, so the endpoint does
// not become a way to make the server run bcrypt for free. Passwords that
// fail validation are not hashed either; the write reports them.
func (s *Service) HashAhead(ctx context.Context, caller *Caller, c *schema.Collection, id string, body map[string]any) context.Context {
	if id == "" {
		return s.hashAhead(ctx, caller, c, true, "", body)
	}
	return s.hashAhead(ctx, caller, c, false, id, body)
}

// HashAheadUpsert is HashAhead for a batch upsert of body, which updates
// the record body.id when it exists and creates it otherwise.
func (s *Service) HashAheadUpsert(ctx context.Context, caller *Caller, c *schema.Collection, body map[string]any) context.Context {
	id, _ := body["id"].(string)
	return s.hashAhead(ctx, caller, c, true, id, body)
}

// hashAhead prepares a create (when create is set) or an update of the
// record with id, whichever the caller may do (an upsert has both).
func (s *Service) hashAhead(ctx context.Context, caller *Caller, c *schema.Collection, create bool, id string, body map[string]any) context.Context {
	if c == nil || c.IsView() || !setsPassword(c, body) || ctx.Err() != nil {
		return ctx
	}
	var current *schema.Record
	if id != "" && schema.ValidID(id) {
		if filters, err := rule(caller, c, auth.ActionUpdate, c.UpdateRule); err == nil {
			current, _ = s.Store.FindOne(ctx, c, id, caller.Request, filters...)
		}
	}
	if current == nil {
		if !create {
			return ctx
		}
		if _, err := rule(caller, c, auth.ActionCreate, c.CreateRule); err != nil {
			return ctx
		}
	}
	p := preparedFrom(ctx)
	if p == nil {
		p = &prepared{}
		ctx = context.WithValue(ctx, preparedKey{}, p)
	}
	for _, f := range c.Fields {
		if f.Type != "password" {
			continue
		}
		raw, ok := body[f.Name]
		if !ok {
			continue
		}
		v, ferr := f.Options.Normalize(f, raw)
		plain, _ := v.(string)
		if ferr != nil || f.Options.Validate(f, plain) != nil {
			continue
		}
		if f.Name == "password" && c.IsAuth() {
			if confirm, _ := body["passwordConfirm"].(string); confirm != plain {
				continue // the write answers with the mismatch
			}
		}
		h, err := s.hashPassword(plain, s.passwordCost(f))
		if err != nil {
			continue // the write reports it
		}
		k := hashKey{c.ID, f.Name, plain}
		p.mu.Lock()
		if p.hashes == nil {
			p.hashes = map[hashKey][]string{}
		}
		p.hashes[k] = append(p.hashes[k], h)
		p.mu.Unlock()
	}
	if current != nil && c.IsAuth() {
		if old, _ := body["oldPassword"].(string); old != "" {
			k := checkKey{current.GetString("password"), old}
			if _, done := p.check(k); !done {
				ok := s.checkPassword(k.hash, old, s.PasswordCost(c, "password"))
				p.mu.Lock()
				if p.checks == nil {
					p.checks = map[checkKey]bool{}
				}
				p.checks[k] = ok
				p.mu.Unlock()
			}
		}
	}
	return ctx
}

// setsPassword reports whether body has a value for one of c's password
// fields: most writes do not, and cost no extra read here.
func setsPassword(c *schema.Collection, body map[string]any) bool {
	for _, f := range c.Fields {
		if _, ok := body[f.Name]; ok && f.Type == "password" {
			return true
		}
	}
	return false
}

// passwordCost is the bcrypt cost of new hashes for field f.
func (s *Service) passwordCost(f *schema.Field) int {
	if po, ok := f.Options.(*schema.PasswordOptions); ok && po.Cost > 0 {
		return po.Cost
	}
	return s.BcryptCost
}

// PasswordCost is the bcrypt cost of new hashes of c's password field
// name: the field's own cost, else BcryptCost (0: bcrypt's default). It is
// also what a check for an unknown identity should spend (see
// auth.CheckPassword).
func (s *Service) PasswordCost(c *schema.Collection, name string) int {
	if f := c.Field(name); f != nil {
		return s.passwordCost(f)
	}
	return s.BcryptCost
}

// checkOldPassword reports whether candidate matches the stored hash of
// c's password, from the comparison HashAhead made when there is one.
func (s *Service) checkOldPassword(ctx context.Context, c *schema.Collection, hash, candidate string) bool {
	if ok, found := preparedFrom(ctx).check(checkKey{hash, candidate}); found {
		return ok
	}
	return s.checkPassword(hash, candidate, s.PasswordCost(c, "password"))
}

// hashPassword and checkPassword are the service's only ways to bcrypt;
// tests observe them through onBcrypt.
func (s *Service) hashPassword(plain string, cost int) (string, error) {
	if s.onBcrypt != nil {
		s.onBcrypt()
	}
	return auth.HashPassword(plain, cost)
}

func (s *Service) checkPassword(hash, candidate string, dummyCost int) bool {
	if s.onBcrypt != nil {
		s.onBcrypt()
	}
	return auth.CheckPassword(hash, candidate, dummyCost)
}
