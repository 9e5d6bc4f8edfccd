package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

func writeShape(b *strings.Builder, v any) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(k + ":")
			writeShape(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		if len(x) > 0 {
			writeShape(b, x[0])
		}
		b.WriteByte(']')
	case string:
		b.WriteString("str")
	case float64:
		b.WriteString("num")
	case bool:
		b.WriteString("bool")
	case nil:
		b.WriteString("null")
	default:
		fmt.Fprintf(b, "%T", x)
	}
}

// shapeDiff compares the shapes of two JSON bodies and returns "" when they
// match, or a short description of the first difference.
func shapeDiff(a, b []byte) string {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return "a body is not JSON"
	}
	return diffValue("$", va, vb)
}

func diffValue(path string, a, b any) string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return path + ": object vs " + kindOf(b)
		}
		var only []string
		for k := range x {
			if _, ok := y[k]; !ok {
				only = append(only, "plinth-only "+path+"."+k)
			}
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				only = append(only, "baseline-only "+path+"."+k)
			}
		}
		if len(only) > 0 {
			slices.Sort(only)
			return strings.Join(only, ", ")
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			if d := diffValue(path+"."+k, x[k], y[k]); d != "" {
				return d
			}
		}
		return ""
	case []any:
		y, ok := b.([]any)
		if !ok {
			return path + ": array vs " + kindOf(b)
		}
		if len(x) > 0 && len(y) > 0 {
			return diffValue(path+"[0]", x[0], y[0])
		}
		return ""
	default:
		if ka, kb := kindOf(a), kindOf(b); ka != kb {
			return fmt.Sprintf("%s: %s vs %s", path, ka, kb)
		}
		return ""
	}
}

func kindOf(v any) string {
	var b strings.Builder
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	writeShape(&b, v)
	return b.String()
}
