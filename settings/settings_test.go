package settings

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/plinthdev/plinth/mailer"
	"github.com/plinthdev/plinth/ratelimit"
)

func TestDefaults(t *testing.T) {
	t.Parallel()
	d := Defaults()
	if err := d.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if !reflect.DeepEqual(d.RateLimitRules(), ratelimit.DefaultRules()) {
		t.Errorf("rules %v, want ratelimit.DefaultRules()", d.RateLimitRules())
	}
	if d.Meta.AppName != "Plinth" || d.Meta.AppURL != "http://localhost:8090" || !d.RateLimits.Enabled || !d.Batch.Enabled || d.SMTP.Enabled {
		t.Errorf("defaults: %+v", d)
	}
}

func TestPatch(t *testing.T) {
	t.Parallel()
	cur := Defaults()
	cur.SMTP.Password = "kept"
	next, err := cur.Patch([]byte(`{"smtp":{"host":"mail.example.com"},"rateLimits":{"rules":[{"label":"/api/","maxRequests":5,"duration":1}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if next.SMTP.Password != "kept" || next.SMTP.Host != "mail.example.com" || next.SMTP.Port != 587 {
		t.Errorf("smtp after patch: %+v", next.SMTP)
	}
	if len(next.RateLimits.Rules) != 1 || next.RateLimits.Rules[0] != (Rule{Label: "/api/", MaxRequests: 5, Duration: 1}) {
		t.Errorf("a list given replaces the list: %+v", next.RateLimits.Rules)
	}
	if cur.SMTP.Host != "smtp.example.com" || len(cur.RateLimits.Rules) != len(ratelimit.DefaultRules()) {
		t.Error("Patch modified its receiver")
	}
	next, err = next.Patch([]byte(`{"smtp":{"password":""}}`))
	if err != nil || next.SMTP.Password != "" {
		t.Errorf("an explicit empty password clears it: %v %q", err, next.SMTP.Password)
	}
	for body, want := range map[string]string{
		`{"smtp":{"hots":"x"}}`:                            `{"smtp":{"hots":{"code":"validation_unknown_field"`,
		`{"rateLimits":{"rules":[{"label":"x","max":1}]}}`: `{"rateLimits":{"rules":{"0":{"max":{"code":"validation_unknown_field"`,
		`{"batch":{"timeout":"soon"}}`:                     `{"batch":{"timeout":{"code":"validation_invalid_type"`,
		`[]`:                                               `{"body":{"code":"validation_invalid_json"`,
		`{`:                                                `{"body":{"code":"validation_invalid_json"`,
	} {
		_, err := cur.Patch([]byte(body))
		data, _ := json.Marshal(err)
		if err == nil || !strings.HasPrefix(string(data), want) {
			t.Errorf("Patch(%s) = %s, want %s...", body, data, want)
		}
	}
}

func TestPublicHidesThePassword(t *testing.T) {
	t.Parallel()
	s := Defaults()
	s.SMTP.Password = "hunter2"
	data, _ := json.Marshal(s.Public())
	if strings.Contains(string(data), "hunter2") || strings.Contains(string(data), `"password"`) {
		t.Errorf("public settings: %s", data)
	}
	if s.SMTP.Password != "hunter2" {
		t.Error("Public modified its receiver")
	}
}

func TestParseFillsNewKeys(t *testing.T) {
	t.Parallel()
	s, err := Parse([]byte(`{"meta":{"appName":"Old"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if s.Meta.AppName != "Old" || s.Meta.AppURL != "http://localhost:8090" || !s.Batch.Enabled || len(s.RateLimits.Rules) == 0 {
		t.Errorf("parsed: %+v", s)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		patch string
		want  string // "" for valid
	}{
		{"https url", `{"meta":{"appURL":"https://example.com/app"}}`, ""},
		{"relative url", `{"meta":{"appURL":"/app"}}`, `"appURL"`},
		{"sender with name", `{"meta":{"senderAddress":"Bob <bob@example.com>"}}`, `"senderAddress"`},
		{"smtp without host", `{"smtp":{"enabled":true,"host":" "}}`, `"host":{"code":"validation_required"`},
		{"smtp clear text to a remote host is fine (starttls)", `{"smtp":{"enabled":true,"host":"mail.example.com","port":587}}`, ""},
		{"port out of range", `{"smtp":{"port":70000}}`, `"port"`},
		{"unknown audience", `{"rateLimits":{"rules":[{"label":"/api/","maxRequests":1,"duration":1,"audience":"@admins"}]}}`, `"audience"`},
		{"negative body size", `{"batch":{"maxBodySize":-1}}`, `"maxBodySize"`},
		{"control character in the app name", `{"meta":{"appName":"a\nb"}}`, `"appName"`},
	} {
		s, err := Defaults().Patch([]byte(tc.patch))
		if err != nil {
			t.Fatalf("%s: patch: %v", tc.name, err)
		}
		err = s.Validate()
		data, _ := json.Marshal(err)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: unexpected error %s", tc.name, data)
		case tc.want != "" && (err == nil || !strings.Contains(string(data), tc.want)):
			t.Errorf("%s: got %s, want %s", tc.name, data, tc.want)
		}
	}
}

func TestSMTPConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		host string
		tls  bool
		want string
	}{
		{"mail.example.com", false, mailer.TLSStartTLS},
		{"mail.example.com", true, mailer.TLSImplicit},
		{"127.0.0.1", false, mailer.TLSNone},
		{"localhost", false, mailer.TLSNone},
		{"localhost", true, mailer.TLSImplicit},
	} {
		s := Defaults()
		s.SMTP.Host, s.SMTP.TLS, s.SMTP.Password = tc.host, tc.tls, "pw"
		cfg := s.SMTPConfig()
		if cfg.TLS != tc.want || cfg.Password != "pw" || cfg.Host != tc.host {
			t.Errorf("%s tls=%v: %v", tc.host, tc.tls, cfg)
		}
	}
}

func TestTrustedProxyAndExcludedIPs(t *testing.T) {
	t.Parallel()
	// Settings stored before these keys existed get empty lists.
	old, err := Parse([]byte(`{"rateLimits":{"enabled":true,"rules":[]}}`))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(old.Public())
	if !strings.Contains(string(out), `"excludedIPs":[]`) || !strings.Contains(string(out), `"trustedProxy":{"headers":[],"useLeftmostIP":false,"trustedCIDRs":[]}`) {
		t.Errorf("old settings: %s", out)
	}
	cur := Defaults()
	next, err := cur.Patch([]byte(`{"rateLimits":{"excludedIPs":["10.0.0.0/8","::1"]},"trustedProxy":{"headers":["X-Real-IP"],"useLeftmostIP":true,"trustedCIDRs":["192.168.1.1"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := next.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(cur.RateLimits.ExcludedIPs)+len(cur.TrustedProxy.Headers) != 0 {
		t.Errorf("Patch changed its receiver: %+v", cur)
	}
	tp := next.TrustedProxyConfig()
	if len(tp.Headers) != 1 || !tp.UseLeftmostIP || len(tp.Proxies) != 1 || tp.Proxies[0].String() != "192.168.1.1/32" {
		t.Errorf("TrustedProxyConfig: %+v", tp)
	}
	if ex := next.ExcludedPrefixes(); len(ex) != 2 || !ratelimit.ContainsIP(ex, "10.9.8.7") {
		t.Errorf("ExcludedPrefixes: %v", ex)
	}
	c := next.Clone()
	c.TrustedProxy.Headers[0] = "changed"
	if next.TrustedProxy.Headers[0] != "X-Real-IP" {
		t.Error("Clone shares the headers")
	}
	many := make([]string, maxProxyHeaders+1)
	for i := range many {
		many[i] = "X-A"
	}
	bad := Defaults()
	bad.TrustedProxy.Headers = many
	bad.RateLimits.ExcludedIPs = []string{"not-an-ip"}
	err = bad.Validate()
	if err == nil {
		t.Fatal("invalid lists accepted")
	}
	data, _ := json.Marshal(err)
	for _, want := range []string{`"headers":{"code":"validation_length_too_long"`, `"excludedIPs":{"code":"validation_invalid_ip"`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("errors %s lack %s", data, want)
		}
	}
}

func TestS3(t *testing.T) {
	t.Parallel()
	cur := Defaults()
	next, err := cur.Patch([]byte(`{"s3":{"enabled":true,"bucket":"b","endpoint":"https://s3.example.com","accessKey":"ak","secret":"sk","forcePathStyle":true},"backups":{"s3":{"bucket":"bb","secret":"bsk"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := next.Validate(); err != nil {
		t.Fatalf("valid S3 settings: %v", err)
	}
	want := S3{Enabled: true, Bucket: "b", Endpoint: "https://s3.example.com", AccessKey: "ak", Secret: "sk", ForcePathStyle: true}
	if next.S3 != want || next.Backups.S3.Bucket != "bb" || next.Backups.S3.Secret != "bsk" || next.Backups.CronMaxKeep != 3 {
		t.Errorf("after patch: %+v, backups %+v", next.S3, next.Backups)
	}
	// A PATCH that leaves the secrets out keeps them, as the SMTP password.
	kept, err := next.Patch([]byte(`{"s3":{"region":"eu-west-1"},"backups":{"s3":{"enabled":false}}}`))
	if err != nil || kept.S3.Secret != "sk" || kept.Backups.S3.Secret != "bsk" || kept.S3.Region != "eu-west-1" {
		t.Errorf("secrets kept: %v %+v %+v", err, kept.S3, kept.Backups.S3)
	}
	data, _ := json.Marshal(next.Public())
	if strings.Contains(string(data), "sk") || strings.Contains(string(data), `"secret"`) || !strings.Contains(string(data), `"s3":{"enabled":true,"bucket":"b"`) {
		t.Errorf("public settings show a secret or miss s3: %s", data)
	}
	if next.S3.Secret != "sk" {
		t.Error("Public modified its receiver")
	}

	for body, want := range map[string]string{
		`{"s3":{"enabled":true}}`:                            `{"s3":{"bucket":{"code":"validation_required"`,
		`{"s3":{"enabled":true,"bucket":"b"}}`:               `{"s3":{"endpoint":{"code":"validation_required"`,
		`{"backups":{"s3":{"enabled":true,"endpoint":"x"}}}`: `{"backups":{"s3":{"bucket":{"code":"validation_required"`,
		`{"s3":{"bucket":"a\nb"}}`:                           `{"s3":{"bucket":{"code":"validation_invalid_value"`,
	} {
		next, err := cur.Patch([]byte(body))
		if err == nil {
			err = next.Validate()
		}
		data, _ := json.Marshal(err)
		if err == nil || !strings.HasPrefix(string(data), want) {
			t.Errorf("%s: %s, want %s...", body, data, want)
		}
	}
	if _, err := cur.Patch([]byte(`{"s3":{"bucket":"b","prefix":"x"}}`)); err == nil {
		t.Error("an unknown s3 key is accepted")
	}
}
