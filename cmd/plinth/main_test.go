package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	archive, restored := filepath.Join(t.TempDir(), "backup.zip"), t.TempDir()
	env := func(k string) string {
		if k == "PLINTH_DIR" {
			return dir
		}
		return ""
	}
	tests := []struct {
		args    []string
		wantErr string
		wantOut string
	}{
		{args: []string{"version"}, wantOut: "plinth "},
		{args: nil, wantErr: "missing command"},
		{args: []string{"nope"}, wantErr: `unknown command "nope"`},
		{args: []string{"superuser", "upsert", "a@example.com"}, wantErr: "expected 'upsert EMAIL PASS'"},
		{args: []string{"superuser", "upsert", "a@example.com", "short"}, wantErr: "password"},
		{args: []string{"superuser", "upsert", "a@example.com", "long-enough-pass"}, wantOut: `Successfully saved superuser "a@example.com"`},
		{args: []string{"superuser", "upsert", "a@example.com", "another-long-pass"}, wantOut: "Successfully saved"},
		{args: []string{"superuser", "delete", "a@example.com"}, wantOut: "Successfully deleted"},
		{args: []string{"superuser", "delete", "a@example.com"}, wantErr: "not found"},
		{args: []string{"serve", "--log-format", "xml"}, wantErr: "invalid --log-format"},
		{args: []string{"serve", "--db", "mysql://x"}, wantErr: "postgres://"},
		{args: []string{"serve", "--rate-limits", "sometimes"}, wantErr: "invalid --rate-limits"},
		{args: []string{"serve", "--encryption-key", "too-short"}, wantErr: "PLINTH_ENCRYPTION_KEY"},
		{args: []string{"serve", "--redis", "mysql://x"}, wantErr: "PLINTH_REDIS_URL"},
		{args: []string{"import"}, wantErr: "expected 'pocketbase PB_DATA'"},
		{args: []string{"import", "pocketbase"}, wantErr: "the PocketBase data directory"},
		{args: []string{"import", "pocketbase", t.TempDir()}, wantErr: "not a PocketBase data directory"},
		{args: []string{"import", "pocketbase", dir}, wantErr: "PocketBase 0.23 or later"}, // a Plinth data directory
		{args: []string{"import", "pocketbase", "../../pbimport/testdata/pb_data"}, wantOut: "settings imported; no such setting here: meta.hideControls)"},
		{args: []string{"backup"}, wantErr: "expected the archive to write"},
		{args: []string{"backup", archive}, wantOut: "records, 1 files (from sqlite)"},
		{args: []string{"restore", archive}, wantErr: "restore into a new data directory"},
		{args: []string{"restore", archive, "--dir", restored}, wantOut: "Restored " + archive},
		{args: []string{"restore", filepath.Join(dir, "missing.zip"), "--dir", t.TempDir()}, wantErr: "no such file"},
	}
	for _, tc := range tests {
		var out, errOut bytes.Buffer
		err := run(context.Background(), tc.args, env, &out, &errOut)
		switch {
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("plinth %v: error %v, want one containing %q", tc.args, err, tc.wantErr)
		case tc.wantErr == "" && err != nil:
			t.Errorf("plinth %v: %v", tc.args, err)
		case !strings.Contains(out.String(), tc.wantOut):
			t.Errorf("plinth %v: output %q lacks %q", tc.args, out.String(), tc.wantOut)
		}
	}
}

// TestRateLimitFlag: --rate-limits and PLINTH_RATE_LIMITS switch limits off.
func TestRateLimitFlag(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		env  string
		off  bool
	}{
		{nil, "", false},
		{[]string{"--rate-limits", "off"}, "", true},
		{nil, "off", true},
		{[]string{"--rate-limits=on"}, "off", false},
	} {
		getenv := func(k string) string {
			if k == "PLINTH_RATE_LIMITS" {
				return tc.env
			}
			return ""
		}
		cfg, _, _, err := parseFlags("serve", tc.args, getenv, &bytes.Buffer{})
		if err != nil || cfg.DisableRateLimits != tc.off {
			t.Errorf("%v env=%q: DisableRateLimits=%v, err %v; want %v", tc.args, tc.env, cfg.DisableRateLimits, err, tc.off)
		}
	}
}
