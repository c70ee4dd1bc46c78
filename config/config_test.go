package config

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) Getenv { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Mode != ModeDevelopment || c.Addr != "127.0.0.1:8080" || c.DataDir != "./data" {
		t.Errorf("defaults: mode %q addr %q data %q", c.Mode, c.Addr, c.DataDir)
	}
	if c.BaseURL != "http://127.0.0.1:8080" || c.OIDCRedirectURL != "http://127.0.0.1:8080/auth/callback" {
		t.Errorf("derived URLs: %q %q", c.BaseURL, c.OIDCRedirectURL)
	}
	if !c.DemoLogin || !c.DemoData {
		t.Error("development without an issuer should offer the demo sign-in and data")
	}
	if c.SessionIdle != 30*time.Minute || c.SessionMaxAge != 12*time.Hour {
		t.Errorf("session durations %v %v", c.SessionIdle, c.SessionMaxAge)
	}
	if c.RoleRecheck != 5*time.Minute || c.RoleRecheckGrace != 10*time.Minute {
		t.Errorf("role re-check %v, grace %v; want 5m and 10m", c.RoleRecheck, c.RoleRecheckGrace)
	}
	if c.BusyThresholdPct != 5 {
		t.Errorf("busy threshold %v, want 5 %%", c.BusyThresholdPct)
	}
	if c.MinFreeBytes != 1<<30 || c.OrphanAge != 24*time.Hour {
		t.Errorf("free space %d, orphan age %v", c.MinFreeBytes, c.OrphanAge)
	}
	if c.CollectorRetries != 3 || c.CollectorMaxBackoff != time.Minute || c.CollectorFailureHistory != 100 {
		t.Errorf("collector: %d retries, max back-off %v, %d failures kept", c.CollectorRetries, c.CollectorMaxBackoff,
			c.CollectorFailureHistory)
	}
	if c.SQLitePath() != filepath.Join("data", "portal.db") || c.UsesPostgres() {
		t.Errorf("database: %q postgres=%v", c.SQLitePath(), c.UsesPostgres())
	}
	if c.SecureCookies() {
		t.Error("cookies on http://127.0.0.1 must not be Secure (the browser would drop them)")
	}
}

// Production refuses to start without each of the settings it needs, with a
// one-line error naming the variable.
func TestProductionRequires(t *testing.T) {
	full := map[string]string{
		"PORTAL_MODE": "production", "PORTAL_BASE_URL": "https://k-ai.example.go.kr",
		"OIDC_ISSUER": "https://sso.example.go.kr/realms/k-ai", "OIDC_CLIENT_ID": "portal",
		"OIDC_CLIENT_SECRET": "s3cret", "PORTAL_SESSION_KEY": strings.Repeat("k", 32),
	}
	if _, err := Load(env(full)); err != nil {
		t.Fatalf("complete production configuration refused: %v", err)
	}
	cases := []struct {
		drop, want string
	}{
		{"OIDC_ISSUER", "OIDC_ISSUER:"},
		{"OIDC_CLIENT_ID", "OIDC_CLIENT_ID:"},
		{"OIDC_CLIENT_SECRET", "OIDC_CLIENT_SECRET:"},
		{"PORTAL_SESSION_KEY", "PORTAL_SESSION_KEY:"},
	}
	for _, tc := range cases {
		t.Run(tc.drop, func(t *testing.T) {
			m := map[string]string{}
			for k, v := range full {
				m[k] = v
			}
			delete(m, tc.drop)
			_, err := Load(env(m))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("without %s: err = %v, want one naming %s", tc.drop, err, tc.want)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.Contains(line, ":") {
					t.Errorf("error line %q does not name a variable", line)
				}
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"unknown mode", map[string]string{"PORTAL_MODE": "staging"}, "PORTAL_MODE"},
		{"bad addr", map[string]string{"PORTAL_ADDR": "8080"}, "PORTAL_ADDR"},
		{"bad base url", map[string]string{"PORTAL_BASE_URL": "ftp://x"}, "PORTAL_BASE_URL"},
		{"bad database", map[string]string{"DATABASE_URL": "mysql://x"}, "DATABASE_URL"},
		{"short session key in production", map[string]string{"PORTAL_MODE": "production", "OIDC_ISSUER": "https://i",
			"OIDC_CLIENT_ID": "c", "OIDC_CLIENT_SECRET": "s", "PORTAL_SESSION_KEY": "short"}, "at least 32 bytes"},
		{"demo login in production", map[string]string{"PORTAL_MODE": "production", "OIDC_ISSUER": "https://i",
			"OIDC_CLIENT_ID": "c", "OIDC_CLIENT_SECRET": "s", "PORTAL_SESSION_KEY": strings.Repeat("k", 32),
			"PORTAL_DEMO_LOGIN": "true"}, "PORTAL_DEMO_LOGIN"},
		{"issuer without client", map[string]string{"OIDC_ISSUER": "https://i"}, "OIDC_CLIENT_ID"},
		{"bad duration", map[string]string{"PORTAL_SESSION_IDLE": "soon"}, "PORTAL_SESSION_IDLE"},
		{"bad bool", map[string]string{"PORTAL_DEMO_DATA": "perhaps"}, "PORTAL_DEMO_DATA"},
		{"bad role re-check", map[string]string{"PORTAL_ROLE_RECHECK": "0s"}, "PORTAL_ROLE_RECHECK"},
		{"bad role re-check grace", map[string]string{"PORTAL_ROLE_RECHECK_GRACE": "-1m"}, "PORTAL_ROLE_RECHECK_GRACE"},
		{"role re-check beyond the session", map[string]string{"PORTAL_ROLE_RECHECK": "13h"}, "PORTAL_ROLE_RECHECK"},
		{"bad body limit", map[string]string{"PORTAL_MAX_BODY_BYTES": "-1"}, "PORTAL_MAX_BODY_BYTES"},
		{"negative free space", map[string]string{"PORTAL_MIN_FREE_BYTES": "-1"}, "PORTAL_MIN_FREE_BYTES"},
		{"free space not a number", map[string]string{"PORTAL_MIN_FREE_BYTES": "1G"}, "PORTAL_MIN_FREE_BYTES"},
		{"negative page cache", map[string]string{"PORTAL_PAGE_CACHE_BYTES": "-1"}, "PORTAL_PAGE_CACHE_BYTES"},
		{"orphan age too short", map[string]string{"PORTAL_ORPHAN_AGE": "10m"}, "PORTAL_ORPHAN_AGE"},
		{"collector retries negative", map[string]string{"PORTAL_COLLECTOR_RETRIES": "-1"}, "PORTAL_COLLECTOR_RETRIES"},
		{"collector back-off too long", map[string]string{"PORTAL_COLLECTOR_MAX_BACKOFF": "2h"}, "PORTAL_COLLECTOR_MAX_BACKOFF"},
		{"collector back-off not a duration", map[string]string{"PORTAL_COLLECTOR_MAX_BACKOFF": "60"}, "PORTAL_COLLECTOR_MAX_BACKOFF"},
		{"collector history of none", map[string]string{"PORTAL_COLLECTOR_FAILURE_HISTORY": "0"}, "PORTAL_COLLECTOR_FAILURE_HISTORY"},
		{"collector metrics address without port", map[string]string{"PORTAL_COLLECT_METRICS_ADDR": "localhost"}, "PORTAL_COLLECT_METRICS_ADDR"},
		{"busy threshold of 0", map[string]string{"PORTAL_GPU_BUSY_THRESHOLD": "0"}, "PORTAL_GPU_BUSY_THRESHOLD"},
		{"busy threshold over 100", map[string]string{"PORTAL_GPU_BUSY_THRESHOLD": "101"}, "PORTAL_GPU_BUSY_THRESHOLD"},
		{"busy threshold not a number", map[string]string{"PORTAL_GPU_BUSY_THRESHOLD": "5%"}, "PORTAL_GPU_BUSY_THRESHOLD"},
		{"hourly retention negative", map[string]string{"PORTAL_TELEMETRY_HOURLY_RETENTION_MONTHS": "-1"}, "PORTAL_TELEMETRY_HOURLY_RETENTION_MONTHS"},
		{"hourly retention not a number", map[string]string{"PORTAL_TELEMETRY_HOURLY_RETENTION_MONTHS": "6m"}, "PORTAL_TELEMETRY_HOURLY_RETENTION_MONTHS"},
		{"role map unknown role", map[string]string{"OIDC_ROLE_MAP": "staff=superuser"}, "OIDC_ROLE_MAP"},
		{"role map malformed", map[string]string{"OIDC_ROLE_MAP": "officer"}, "OIDC_ROLE_MAP"},
		{"bad request timeout", map[string]string{"PORTAL_DB_REQUEST_TIMEOUT": "0s"}, "PORTAL_DB_REQUEST_TIMEOUT"},
		{"rate limit without period", map[string]string{"PORTAL_RATE_LIMIT_POST": "60"}, "PORTAL_RATE_LIMIT_POST"},
		{"rate limit of zero", map[string]string{"PORTAL_RATE_LIMIT_API": "0/1m"}, "PORTAL_RATE_LIMIT_API"},
		{"rate limit bad period", map[string]string{"PORTAL_RATE_LIMIT_SIGNIN": "10/soon"}, "PORTAL_RATE_LIMIT_SIGNIN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(env(tc.env))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want mention of %q", err, tc.want)
			}
		})
	}
}

func TestRoleMapAndCookies(t *testing.T) {
	c, err := Load(env(map[string]string{"OIDC_ROLE_MAP": "kai-officers=officer, kai-audit=auditor",
		"PORTAL_BASE_URL": "https://k-ai.example.go.kr"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.OIDCRoleMap["kai-officers"] != "officer" || c.OIDCRoleMap["kai-audit"] != "auditor" || len(c.OIDCRoleMap) != 2 {
		t.Errorf("role map %v", c.OIDCRoleMap)
	}
	if !c.SecureCookies() {
		t.Error("https base URL must give Secure cookies")
	}
	c.BaseURL = "http://portal.internal:8080"
	if !c.SecureCookies() {
		t.Error("plain http to a non-loopback host must still mark cookies Secure")
	}
	c.BaseURL = "http://localhost:8080"
	if c.SecureCookies() {
		t.Error("localhost over http is development: not Secure")
	}
}

func TestLoadDotenv(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	content := "# comment\nKAI_TEST_A=from-file\nexport KAI_TEST_B=\"quoted value\"\nKAI_TEST_C=file\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KAI_TEST_C", "from-env")
	os.Unsetenv("KAI_TEST_A")
	os.Unsetenv("KAI_TEST_B")
	t.Cleanup(func() { os.Unsetenv("KAI_TEST_A"); os.Unsetenv("KAI_TEST_B") })
	if err := LoadDotenv(path); err != nil {
		t.Fatal(err)
	}
	if got := os.Getenv("KAI_TEST_A"); got != "from-file" {
		t.Errorf("A = %q", got)
	}
	if got := os.Getenv("KAI_TEST_B"); got != "quoted value" {
		t.Errorf("B = %q", got)
	}
	if got := os.Getenv("KAI_TEST_C"); got != "from-env" {
		t.Errorf("the environment must win over .env: C = %q", got)
	}
	if err := LoadDotenv(filepath.Join(t.TempDir(), "missing")); err != nil {
		t.Errorf("a missing .env is not an error: %v", err)
	}
	bad := filepath.Join(t.TempDir(), ".env")
	os.WriteFile(bad, []byte("NOEQUALS\n"), 0o600)
	if err := LoadDotenv(bad); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Errorf("malformed line: err = %v, want the line number", err)
	}
}

// PORTAL_SECRET_KEY: 32 bytes in hex or base64; in development without it
// the public development key, said so; in production without it none, and
// never the development key.
func TestSecretKey(t *testing.T) {
	want := []byte("0123456789abcdef0123456789abcdef")
	for _, v := range []string{
		"3031323334353637383961626364656630313233343536373839616263646566", // hex
		"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",                     // base64
		"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY",                      // base64 without padding
	} {
		c, err := Load(env(map[string]string{"PORTAL_SECRET_KEY": v}))
		if err != nil || string(c.SecretKey) != string(want) || c.SecretKeyIsDev {
			t.Errorf("PORTAL_SECRET_KEY=%s: key %q dev %t, %v", v, c.SecretKey, c != nil && c.SecretKeyIsDev, err)
		}
	}
	for _, v := range []string{"short", "MDEyMzQ1Njc4OWFiY2RlZg==", strings.Repeat("z", 64)} {
		if _, err := Load(env(map[string]string{"PORTAL_SECRET_KEY": v})); err == nil || !strings.Contains(err.Error(), "PORTAL_SECRET_KEY") {
			t.Errorf("PORTAL_SECRET_KEY=%s: err = %v, want it refused", v, err)
		}
	}
	dev, err := Load(env(nil))
	if err != nil || !dev.SecretKeyIsDev || string(dev.SecretKey) != string(DevSecretKey()) || len(dev.SecretKey) != 32 {
		t.Errorf("development without a key: %v dev %t", err, dev.SecretKeyIsDev)
	}
	prod := map[string]string{
		"PORTAL_MODE": "production", "PORTAL_BASE_URL": "https://k-ai.example.go.kr",
		"OIDC_ISSUER": "https://sso.example.go.kr/realms/k-ai", "OIDC_CLIENT_ID": "portal",
		"OIDC_CLIENT_SECRET": "s3cret", "PORTAL_SESSION_KEY": strings.Repeat("k", 32),
	}
	c, err := Load(env(prod))
	if err != nil || c.SecretKey != nil || c.SecretKeyIsDev {
		t.Errorf("production without a key: %v, key %q", err, c.SecretKey)
	}
	c.SecretKey, c.SecretKeyIsDev = DevSecretKey(), true
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "PORTAL_SECRET_KEY") {
		t.Errorf("production with the development key: %v", err)
	}
}

func TestRequestLimits(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.DBRequestTimeout != 5*time.Second {
		t.Errorf("PORTAL_DB_REQUEST_TIMEOUT default %v, want 5s", c.DBRequestTimeout)
	}
	for name, got := range map[string]RateLimit{"signin": c.RateLimitSignIn, "api": c.RateLimitAPI, "post": c.RateLimitPost} {
		if got.Off() || got.Per != time.Minute {
			t.Errorf("rate limit %s default %s, want a limit per minute", name, got)
		}
	}
	c, err = Load(env(map[string]string{"PORTAL_RATE_LIMIT_POST": "off", "PORTAL_RATE_LIMIT_API": "10/30s",
		"PORTAL_DB_REQUEST_TIMEOUT": "2s"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.RateLimitPost.Off() || c.RateLimitAPI != (RateLimit{N: 10, Per: 30 * time.Second}) || c.DBRequestTimeout != 2*time.Second {
		t.Errorf("post %s, api %s, timeout %v", c.RateLimitPost, c.RateLimitAPI, c.DBRequestTimeout)
	}
}

// Production without a metrics token starts, with a warning that /metrics is closed.
func TestWarnings(t *testing.T) {
	prod := map[string]string{
		"PORTAL_MODE": "production", "PORTAL_BASE_URL": "https://k-ai.example.go.kr",
		"OIDC_ISSUER": "https://sso.example.go.kr/realms/k-ai", "OIDC_CLIENT_ID": "portal",
		"OIDC_CLIENT_SECRET": "s3cret", "PORTAL_SESSION_KEY": strings.Repeat("k", 32),
	}
	c, err := Load(env(prod))
	if err != nil {
		t.Fatal(err)
	}
	if w := c.Warnings(); len(w) != 1 || !strings.Contains(w[0], "PORTAL_METRICS_TOKEN") {
		t.Errorf("warnings %q, want one about PORTAL_METRICS_TOKEN", w)
	}
	prod["PORTAL_METRICS_TOKEN"] = "scrape-secret"
	if c, _ = Load(env(prod)); len(c.Warnings()) != 0 {
		t.Errorf("warnings with a token: %q", c.Warnings())
	}
	if c, _ = Load(env(nil)); len(c.Warnings()) != 0 {
		t.Errorf("warnings in development: %q", c.Warnings())
	}
}

// TestRoleMapRoles: every portal role, the external evaluator's included,
// can be named in OIDC_ROLE_MAP; anything else is refused; the default maps
// each role's own name.
func TestRoleMapRoles(t *testing.T) {
	tests := []struct {
		name, value string
		want        map[string]string
		wantErr     bool
	}{
		{"reviewer", "kai-panel=reviewer", map[string]string{"kai-panel": "reviewer"}, false},
		{"every role", "a=officer,b=admin,c=company,d=auditor,e=reviewer",
			map[string]string{"a": "officer", "b": "admin", "c": "company", "d": "auditor", "e": "reviewer"}, false},
		{"evaluator is not a role name", "kai-panel=evaluator", nil, true},
		{"wrong case", "kai-panel=Reviewer", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRoleMap(tt.value)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseRoleMap(%q): error %v, want error %v", tt.value, err, tt.wantErr)
			}
			if err == nil && !maps.Equal(got, tt.want) {
				t.Errorf("parseRoleMap(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.OIDCRoleMap["reviewer"] != "reviewer" || c.OIDCRoleMap["officer"] != "officer" {
		t.Errorf("default role map %v: want each role's own name, reviewer included", c.OIDCRoleMap)
	}
}

// TestNotifyTiming: the reminder offsets, the allocation-ending notice and
// the telemetry gap are read, sorted and checked.
func TestNotifyTiming(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := c.NotifyTiming; !slices.Equal(got.ReminderOffsets, []time.Duration{72 * time.Hour, 24 * time.Hour}) ||
		got.AllocationEndingAhead != 168*time.Hour || got.TelemetryGap != 6*time.Hour {
		t.Errorf("defaults: %+v", got)
	}
	for _, tc := range []struct {
		env     map[string]string
		offsets []time.Duration
		wantErr string
	}{
		{map[string]string{"NOTIFY_REMINDER_OFFSETS": "1h, 48h,24h"}, []time.Duration{48 * time.Hour, 24 * time.Hour, time.Hour}, ""},
		{map[string]string{"NOTIFY_REMINDER_OFFSETS": "24h,soon"}, nil, "NOTIFY_REMINDER_OFFSETS"},
		{map[string]string{"NOTIFY_REMINDER_OFFSETS": "-1h"}, nil, "NOTIFY_REMINDER_OFFSETS"},
		{map[string]string{"NOTIFY_REMINDER_OFFSETS": ","}, nil, "at least one"},
		{map[string]string{"NOTIFY_REMINDER_OFFSETS": "24h,24h"}, nil, "twice"},
		{map[string]string{"NOTIFY_REMINDER_OFFSETS": "745h"}, nil, "longer than"},
		{map[string]string{"NOTIFY_ALLOCATION_ENDING_AHEAD": "0s"}, nil, "NOTIFY_ALLOCATION_ENDING_AHEAD"},
		{map[string]string{"NOTIFY_ALLOCATION_ENDING_AHEAD": "800h"}, nil, "NOTIFY_ALLOCATION_ENDING_AHEAD"},
		{map[string]string{"NOTIFY_TELEMETRY_GAP": "5m"}, nil, "NOTIFY_TELEMETRY_GAP"},
		{map[string]string{"NOTIFY_TELEMETRY_GAP": "2h"}, []time.Duration{72 * time.Hour, 24 * time.Hour}, ""},
	} {
		c, err := Load(env(tc.env))
		switch {
		case tc.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%v: error %v, want one about %s", tc.env, err, tc.wantErr)
			}
		case err != nil:
			t.Errorf("%v: %v", tc.env, err)
		case !slices.Equal(c.NotifyTiming.ReminderOffsets, tc.offsets):
			t.Errorf("%v: offsets %v, want %v", tc.env, c.NotifyTiming.ReminderOffsets, tc.offsets)
		}
	}
}
