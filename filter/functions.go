package filter

import "strings"

// call compiles geoDistance(lonA, latA, lonB, latB) (kilometres, haversine)
// and strftime(format, time).
func (c *compiler) call(f *Call) (*operand, error) {
	args := make([]*operand, len(f.Args))
	for i, a := range f.Args {
		o, err := c.operand(a)
		if err != nil {
			return nil, err
		}
		if o.set != nil {
			return nil, errorf(a.Pos(), "arguments of %s() must be single values", f.Name)
		}
		args[i] = o
	}
	switch f.Name {
	case "geoDistance":
		if len(args) != 4 {
			return nil, errorf(f.P, "geoDistance() takes 4 arguments (lonA, latA, lonB, latB)")
		}
		n := make([]string, 4)
		for i, a := range args {
			switch {
			case a.static:
				if _, ok := convStatic(a.val, tNumber); !ok || a.typ == tBool {
					return nil, errorf(a.pos, "geoDistance() arguments must be numbers")
				}
			case a.typ != tNumber && a.typ != tJSON:
				return nil, errorf(a.pos, "geoDistance() arguments must be numbers")
			}
			n[i] = c.render(a, tNumber)
		}
		rad := func(s string) string { return "(" + s + " * 0.017453292519943295)" }
		lonA, latA, lonB, latB := rad(n[0]), rad(n[1]), rad(n[2]), rad(n[3])
		h := "(POWER(SIN((" + latB + " - " + latA + ") / 2), 2) + COS(" + latA + ") * COS(" + latB + ") * POWER(SIN((" + lonB + " - " + lonA + ") / 2), 2))"
		expr := "(12742.0 * ASIN(SQRT(CASE WHEN " + h + " > 1 THEN 1 ELSE " + h + " END)))"
		o := c.column(f.P, expr, tNumber)
		return o, nil
	case "strftime":
		if len(args) != 2 {
			return nil, errorf(f.P, "strftime() takes 2 arguments (format, time)")
		}
		format, ok := args[0].val.(string)
		if !args[0].static || !ok {
			return nil, errorf(args[0].pos, "the strftime() format must be a string")
		}
		if strings.ContainsRune(format, 0) {
			return nil, errorf(args[0].pos, "invalid strftime() format")
		}
		t := args[1]
		if t.static && t.typ != tText {
			return nil, errorf(t.pos, "the strftime() time must be a date string")
		}
		expr, err := c.d.strftime(format, c.render(t, tText), c.bind)
		if err != nil {
			return nil, errorf(args[0].pos, "%s", err.Error())
		}
		return c.column(f.P, expr, tText), nil
	}
	return nil, errorf(f.P, "unknown function %q (expected geoDistance or strftime)", f.Name)
}
