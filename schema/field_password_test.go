package schema

import (
	"strings"
	"testing"
)

func TestPasswordNormalize(t *testing.T) {
	t.Parallel()
	f := newTestField(t, "password", nil, false)
	runNormalize(t, f, []normCase{
		{name: "plain kept", in: " secret pass ", want: " secret pass "},
		{name: "null", in: nil, want: ""},
		{name: "number", in: 12345678.0, code: "validation_invalid_value"},
		{name: "object", in: map[string]any{}, code: "validation_invalid_value"},
	})
}

func TestPasswordValidate(t *testing.T) {
	t.Parallel()
	plain := newTestField(t, "password", nil, false)
	req := newTestField(t, "password", nil, true)
	custom := newTestField(t, "password", &PasswordOptions{Min: 3, Max: 5, Pattern: `\d`}, false)
	runValidate(t, []valCase{
		{"empty optional", plain, "", ""},
		{"empty required", req, "", "validation_required"},
		{"default min", plain, "1234567", "validation_min_text_constraint"},
		{"at default min", plain, "12345678", ""},
		{"at default max", plain, strings.Repeat("a", 71), ""},
		{"over default max", plain, strings.Repeat("a", 72), "validation_max_text_constraint"},
		{"over bcrypt bytes", plain, strings.Repeat("é", 40), "validation_max_text_constraint"},
		{"multibyte within limit", plain, strings.Repeat("é", 36), ""},
		{"custom min", custom, "a1", "validation_min_text_constraint"},
		{"custom max", custom, "a1bcde", "validation_max_text_constraint"},
		{"pattern miss", custom, "abcd", "validation_invalid_format"},
		{"pattern match", custom, "abc1", ""},
		{"wrong type", plain, 1.0, "validation_invalid_value"},
	})
}

func TestPasswordCheckOptions(t *testing.T) {
	t.Parallel()
	runCheckOptions(t, "password", nil, nil, []optCase{
		{name: "defaults", opts: &PasswordOptions{}},
		{name: "custom", opts: &PasswordOptions{Min: 10, Max: 50, Pattern: `^\S+$`, Cost: 12}},
		{name: "max over bcrypt", opts: &PasswordOptions{Max: 72}, keys: []string{"max"}},
		{name: "max below min", opts: &PasswordOptions{Min: 10, Max: 9}, keys: []string{"max"}},
		{name: "min above default max", opts: &PasswordOptions{Min: 80}, keys: []string{"max"}},
		{name: "negative min", opts: &PasswordOptions{Min: -1}, keys: []string{"min"}},
		{name: "bad pattern", opts: &PasswordOptions{Pattern: "("}, keys: []string{"pattern"}},
		{name: "low cost", opts: &PasswordOptions{Cost: 3}, keys: []string{"cost"}},
		{name: "high cost", opts: &PasswordOptions{Cost: 32}, keys: []string{"cost"}},
	})
}
