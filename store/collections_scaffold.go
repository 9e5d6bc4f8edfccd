package store

import "github.com/plinthdev/plinth/schema"

// Scaffold returns the definition a new collection of type typ starts
// from (its system fields and default options), with no id or name: what
// GET /api/collections/meta/scaffolds serves.
func Scaffold(typ string) (*schema.Collection, error) {
	c := &schema.Collection{Type: typ, Fields: []*schema.Field{}}
	if err := prepareCollection(c, nil); err != nil {
		return nil, err
	}
	c.ID = ""
	return c, nil
}
