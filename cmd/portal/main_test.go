package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"kaiportal/models"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func devEnv(t *testing.T) map[string]string {
	return map[string]string{"PORTAL_DATA_DIR": t.TempDir(), "PORTAL_ADDR": "127.0.0.1:0", "PORTAL_LOG_LEVEL": "warn",
		"PORTAL_COLLECT_METRICS_ADDR": "127.0.0.1:0"}
}

func TestHelpListsSubcommands(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, envOf(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"serve", "migrate", "seed-demo", "audit-verify", "appeal-window"} {
		if !strings.Contains(out.String(), "\n  "+cmd) {
			t.Errorf("--help does not list %q:\n%s", cmd, out.String())
		}
	}
	if err := run(context.Background(), []string{"frobnicate"}, envOf(nil), io.Discard, io.Discard); err == nil {
		t.Error("an unknown command must fail")
	}
}

func TestProductionRefusesToStartWithoutSettings(t *testing.T) {
	env := devEnv(t)
	env["PORTAL_MODE"] = "production"
	err := run(context.Background(), []string{"serve"}, envOf(env), io.Discard, io.Discard)
	if err == nil {
		t.Fatal("production without OIDC and a session key started")
	}
	for _, v := range []string{"OIDC_ISSUER", "PORTAL_SESSION_KEY"} {
		if !strings.Contains(err.Error(), v) {
			t.Errorf("error does not name %s: %v", v, err)
		}
	}
}

// migrate, seed-demo and audit-verify on a real SQLite file; then a row is
// tampered with and audit-verify fails naming it.
func TestMaintenanceCommandsAndTamperedAudit(t *testing.T) {
	env := devEnv(t)
	ctx := context.Background()
	var out bytes.Buffer
	verified := func() string {
		t.Helper()
		out.Reset()
		if err := run(ctx, []string{"audit-verify"}, envOf(env), &out, io.Discard); err != nil {
			t.Fatalf("audit-verify: %v (%s)", err, out.String())
		}
		m := regexp.MustCompile(`^audit chain ok: (\d+) rows`).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("audit-verify output %q", out.String())
		}
		return m[1]
	}
	for _, cmd := range []string{"migrate", "seed-demo"} {
		if err := run(ctx, []string{cmd}, envOf(env), io.Discard, io.Discard); err != nil {
			t.Fatalf("%s: %v", cmd, err)
		}
	}
	first := verified()
	if err := run(ctx, []string{"seed-demo"}, envOf(env), io.Discard, io.Discard); err != nil {
		t.Fatalf("second seed-demo: %v", err)
	}
	if again := verified(); again != first {
		t.Fatalf("a second seed-demo wrote audit rows: %s rows, then %s", first, again)
	}

	db, err := models.OpenSQLite(filepath.Join(env["PORTAL_DATA_DIR"], "portal.db"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := 0; i < 3; i++ {
		tx := db.Begin()
		if err := models.RecordAudit(ctx, tx, models.ActorOf(nil), "test.event", "thing", "1", "event", now); err != nil {
			t.Fatal(err)
		}
		tx.Commit()
	}
	// The attacker drops the append-only trigger and rewrites row 3.
	if err := db.Exec("DROP TRIGGER audit_entries_no_update").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("UPDATE audit_entries SET summary = 'nothing happened' WHERE id = 3").Error; err != nil {
		t.Fatal(err)
	}
	models.Close(db)

	out.Reset()
	err = run(ctx, []string{"audit-verify"}, envOf(env), &out, io.Discard)
	if !errors.Is(err, errQuiet) {
		t.Fatalf("audit-verify on a tampered chain: err = %v, want failure", err)
	}
	if !strings.Contains(out.String(), "BROKEN at row 3") {
		t.Errorf("audit-verify output %q does not name row 3", out.String())
	}
}

func TestAppealWindowCommand(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"--announced", "2025-08-04T10:00:00+09:00"},
			[]string{"last day:  2025-08-14", "closes:    2025-08-15T00:00:00+09:00"}},
		{[]string{"--announced", "2025-08-04T10:00:00+09:00", "--rule", "announcement-day"},
			[]string{"last day:  2025-08-13", "closes:    2025-08-14T00:00:00+09:00"}},
		// 2025-08-03T16:30Z is already 08-04 01:30 in Korea.
		{[]string{"--announced", "2025-08-03T16:30:00Z"},
			[]string{"last day:  2025-08-14"}},
	}
	for _, tc := range cases {
		var out bytes.Buffer
		if err := run(context.Background(), append([]string{"appeal-window"}, tc.args...), envOf(nil), &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", tc.args, err)
		}
		for _, w := range tc.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("%v: output %q lacks %q", tc.args, out.String(), w)
			}
		}
	}
	for _, bad := range [][]string{{}, {"--announced", "yesterday"}, {"--announced", "2025-08-04T10:00:00+09:00", "--rule", "lunar"}} {
		if err := run(context.Background(), append([]string{"appeal-window"}, bad...), envOf(nil), io.Discard, io.Discard); err == nil {
			t.Errorf("%v: want an error", bad)
		}
	}
}

// serve answers, then drains and returns when its context ends (SIGTERM).
func TestServeShutsDownGracefully(t *testing.T) {
	env := devEnv(t)
	env["PORTAL_LOG_LEVEL"] = "info"
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, envOf(env), io.Discard, &logs) }()

	addrRE := regexp.MustCompile(`msg="portal listening" addr=(\S+)`)
	var addr string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if m := addrRE.FindStringSubmatch(logs.String()); m != nil {
			addr = m[1]
			break
		}
	}
	if addr == "" {
		t.Fatalf("portal did not start; logs:\n%s", logs.String())
	}
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz = %d", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(25 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
	if !strings.Contains(logs.String(), "stopped") {
		t.Errorf("no shutdown log line:\n%s", logs.String())
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("the portal still answers after shutdown")
	}
}

// TestAppealWindowCommandUsesThePortalsHolidays: announced Wednesday
// 2027-07-07 10:00, day 10 is Saturday 07-17 (제헌절). The built-in table
// gives 07-19 as its substitute, so the last day is Tuesday 07-20. A
// confirmed 2027 list in the portal's database that has no substitute (as
// if the law had changed) makes it Monday 07-19 — for the command as for
// the portal — and the command names the list it used.
func TestAppealWindowCommandUsesThePortalsHolidays(t *testing.T) {
	ctx := context.Background()
	env := devEnv(t)
	announced := []string{"appeal-window", "--announced", "2027-07-07T10:00:00+09:00", "--as-of", "2027-07-10T00:00:00+09:00"}
	var out bytes.Buffer
	if err := run(ctx, announced, envOf(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"last day:  2027-07-20", "closes:    2027-07-21T00:00:00+09:00",
		"holidays:  2027 from the built-in table, version " + models.BuiltinHolidayVersion, "no database given"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("built-in only: output %q lacks %q", out.String(), want)
		}
	}

	if err := run(ctx, []string{"seed-demo"}, envOf(env), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	db, err := models.OpenSQLite(filepath.Join(env["PORTAL_DATA_DIR"], "portal.db"), time.Now)
	if err != nil {
		t.Fatal(err)
	}
	var admin models.User
	if err := db.Where("subject = ?", "demo-admin").First(&admin).Error; err != nil {
		t.Fatal(err)
	}
	importedAt := time.Date(2027, 7, 1, 9, 0, 0, 0, models.KST)
	l, err := models.ImportHolidayList(ctx, db, 2027, "2027.csv", []byte("2027-01-01,신정\n2027-07-17,제헌절\n2027-08-15,광복절\n"), &admin, importedAt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := models.ConfirmHolidayList(ctx, db, l.ID, &admin, importedAt); err != nil {
		t.Fatal(err)
	}
	models.Close(db)

	out.Reset()
	if err := run(ctx, append(announced, "--data-dir", env["PORTAL_DATA_DIR"]), envOf(nil), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"last day:  2027-07-19", "closes:    2027-07-20T00:00:00+09:00",
		"holidays:  2027 from the official list", "imported 2027-07-01"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("with the database: output %q lacks %q", out.String(), want)
		}
	}
	if strings.Contains(out.String(), "no database given") {
		t.Errorf("with the database: output %q says no database", out.String())
	}
	if err := run(ctx, append(announced, "--data-dir", t.TempDir()), envOf(nil), io.Discard, io.Discard); err == nil {
		t.Error("a data dir without a database: want an error")
	}
}

// compact-telemetry: refused without a retention, runs with --months or
// the setting, and says what it did.
func TestCompactTelemetryCommand(t *testing.T) {
	t.Parallel()
	env := devEnv(t)
	ctx := context.Background()
	if err := run(ctx, []string{"migrate"}, envOf(env), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"compact-telemetry"}, envOf(env), io.Discard, io.Discard); err == nil {
		t.Error("compact-telemetry without a retention must fail")
	}
	for _, c := range []struct {
		args []string
		env  string
	}{{[]string{"compact-telemetry", "--months", "3"}, ""}, {[]string{"compact-telemetry"}, "6"}} {
		e := maps.Clone(env)
		if c.env != "" {
			e["PORTAL_TELEMETRY_HOURLY_RETENTION_MONTHS"] = c.env
		}
		var out bytes.Buffer
		if err := run(ctx, c.args, envOf(e), &out, io.Discard); err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if !regexp.MustCompile(`^hourly rollups before \d{4}-\d\d-01 compacted: 0 days, 0 rows removed`).MatchString(out.String()) {
			t.Errorf("%v: output %q", c.args, out.String())
		}
	}
}
