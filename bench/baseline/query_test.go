package main

import (
	"reflect"
	"testing"
)

func TestParseFilter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		wantSQL string
		args    []any
		wantErr bool
	}{
		{"", "", nil, false},
		{"(score >= 10 && score < 20)", `("score" >= ?) AND ("score" < ?)`, []any{10.0, 20.0}, false},
		{"published = true && status = 'live'", `("published" = ?) AND ("status" = ?)`, []any{true, "live"}, false},
		{`title ~ "abc"`, `"title" LIKE ?`, []any{"%abc%"}, false},
		{"password = 'x'", "", nil, true},
		{"score == 1", "", nil, true},
	}
	for _, tt := range tests {
		w, err := parseFilter(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("parseFilter(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			continue
		}
		if err == nil && (w.sql != tt.wantSQL || !reflect.DeepEqual(w.args, tt.args)) {
			t.Errorf("parseFilter(%q) = %q %v, want %q %v", tt.in, w.sql, w.args, tt.wantSQL, tt.args)
		}
	}
}

func TestParseSortAndPage(t *testing.T) {
	t.Parallel()
	got, err := parseSort("-score,created")
	if err != nil || got != `"score" DESC, "created" ASC` {
		t.Errorf("parseSort = %q, %v", got, err)
	}
	if _, err := parseSort("-password"); err == nil {
		t.Error("parseSort(-password): want error")
	}
	if p, pp := pageParams("", "5000"); p != 1 || pp != 1000 {
		t.Errorf("pageParams = %d, %d; want 1, 1000", p, pp)
	}
	st := &store{pg: true}
	if got := st.rebind("a = ? AND b = ?"); got != "a = $1 AND b = $2" {
		t.Errorf("rebind = %q", got)
	}
}
