package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// TestS3Flags: PLINTH_S3_* and the --s3-* flags fill Config.S3, flags win,
// the secret never shows in -h, and a bad S3 setting fails the start.
func TestS3Flags(t *testing.T) {
	t.Parallel()
	vars := map[string]string{
		"PLINTH_S3_ENDPOINT": "http://127.0.0.1:9000", "PLINTH_S3_BUCKET": "b1", "PLINTH_S3_REGION": "us-east-1",
		"PLINTH_S3_ACCESS_KEY": "ak", "PLINTH_S3_SECRET": "very-secret-value", "PLINTH_S3_FORCE_PATH_STYLE": "true",
	}
	env := func(k string) string { return vars[k] }
	cfg, _, _, err := parseFlags("serve", nil, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	s := cfg.S3
	if s.Endpoint != "http://127.0.0.1:9000" || s.Bucket != "b1" || s.Region != "us-east-1" || s.AccessKey != "ak" ||
		s.Secret != "very-secret-value" || !s.ForcePathStyle || s.Prefix != "" {
		t.Errorf("from env: %+v", s)
	}
	cfg, _, _, err = parseFlags("serve", []string{"--s3-bucket", "b2", "--s3-secret", "flag-secret", "--s3-force-path-style=false"}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.S3.Bucket != "b2" || cfg.S3.Secret != "flag-secret" || cfg.S3.ForcePathStyle {
		t.Errorf("flags over env: %+v", cfg.S3)
	}
	var help bytes.Buffer
	parseFlags("serve", []string{"-h"}, env, &help)
	if !strings.Contains(help.String(), "s3-secret") || strings.Contains(help.String(), "very-secret-value") {
		t.Errorf("-h shows the secret or lacks the flag:\n%s", help.String())
	}

	// Nothing listens on port 1: the start fails instead of the first upload.
	dir := t.TempDir()
	badEnv := func(k string) string {
		switch k {
		case "PLINTH_DIR":
			return dir
		case "PLINTH_S3_ENDPOINT":
			return "http://127.0.0.1:1"
		case "PLINTH_S3_BUCKET":
			return "files"
		case "PLINTH_S3_REGION":
			return "us-east-1"
		}
		return ""
	}
	var out, errOut bytes.Buffer
	err = run(context.Background(), []string{"serve", "--http", "127.0.0.1:0"}, badEnv, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "file storage") {
		t.Errorf("serve with an unreachable S3: %v", err)
	}
}
