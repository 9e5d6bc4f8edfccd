package client

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/plinthdev/plinth/filter"
)

// Filter binds params into expr, replacing each placeholder {:name} with
// the value params[name] written as a literal of the filter language, as
// the JavaScript SDK's pb.filter does:
//
//   - a string (or a value whose JSON is a string) becomes a double-quoted
//     string, with backslashes, double quotes and line breaks escaped, so
//     it can never end the literal early;
//   - a number and a bool are written as they are, nil as null;
//   - a time.Time becomes a quoted UTC date in the wire's layout
//     ("2006-01-02 15:04:05.000Z"), comparable with date fields;
//   - anything else is JSON-encoded and, when that gives an array or an
//     object, quoted as a string holding that JSON (for json fields).
//
// Values are substituted in one pass: a value that itself contains
// "{:name}" is not expanded again. Placeholders without a param are left
// as they are. The error is for a value that has no literal: NaN, an
// infinity, or one JSON cannot encode.
//
//	f, err := client.Filter("title ~ {:q} && created > {:since}",
//		map[string]any{"q": userInput, "since": time.Now().Add(-24 * time.Hour)})
func Filter(expr string, params map[string]any) (string, error) {
	if len(params) == 0 {
		return expr, nil
	}
	var b strings.Builder
	rest := expr
	for {
		i := strings.Index(rest, "{:")
		if i < 0 {
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			break
		}
		name := rest[i+2 : i+j]
		v, ok := params[name]
		if !ok {
			b.WriteString(rest[:i+2])
			rest = rest[i+2:]
			continue
		}
		lit, err := literal(v)
		if err != nil {
			return "", fmt.Errorf("plinth: filter param %q: %w", name, err)
		}
		b.WriteString(rest[:i])
		b.WriteString(lit)
		rest = rest[i+j+1:]
	}
	b.WriteString(rest)
	return b.String(), nil
}

// literal writes v as a literal of the filter language.
func literal(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "null", nil
	case string:
		return filter.Quote(x), nil
	case bool:
		return strconv.FormatBool(x), nil
	case int:
		return strconv.Itoa(x), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case float64:
		return formatFloat(x)
	case float32:
		return formatFloat(float64(x))
	case time.Time:
		return filter.Quote(x.UTC().Format(DateLayout)), nil
	case *time.Time:
		if x == nil {
			return "null", nil
		}
		return filter.Quote(x.UTC().Format(DateLayout)), nil
	}
	// Other integer types, pointers, named types, json.Marshalers, slices
	// and maps: through JSON.
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	switch data[0] {
	case '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return "", err
		}
		return filter.Quote(s), nil
	case '[', '{':
		return filter.Quote(string(data)), nil
	}
	return string(data), nil // a number, true, false or null
}

func formatFloat(f float64) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("%v has no literal", f)
	}
	return strconv.FormatFloat(f, 'f', -1, 64), nil
}
