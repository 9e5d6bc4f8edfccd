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
		// Each argument is rendered once, in a derived row, so that it is
		// evaluated (and bound) once.
		const k = " * 0.017453292519943295"
		a, g := c.newAlias("_fg"), c.newAlias("_fh")
		args := "SELECT " + n[0] + k + " AS lon1, " + n[1] + k + " AS lat1, " + n[2] + k + " AS lon2, " + n[3] + k + " AS lat2"
		h := "SELECT POWER(SIN((" + a + ".lat2 - " + a + ".lat1) / 2), 2) + COS(" + a + ".lat1) * COS(" + a + ".lat2) * POWER(SIN((" + a + ".lon2 - " + a + ".lon1) / 2), 2) AS h FROM (" + args + ") AS " + a
		expr := "(SELECT 12742.0 * ASIN(SQRT(CASE WHEN " + g + ".h > 1 THEN 1 WHEN " + g + ".h < 0 THEN 0 ELSE " + g + ".h END)) FROM (" + h + ") AS " + g + ")"
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
