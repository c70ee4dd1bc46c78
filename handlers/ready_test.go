package handlers

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"kaiportal/testdb"
)

// /readyz answers 503 naming the failed check whenever a filing would fail,
// not only when the database is down.
func TestReadyzProvesAFilingWouldSucceed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		env    map[string]string
		breaks func(t *testing.T, app *testApp)
		want   int
		says   []string
	}{
		{"whole", nil, func(*testing.T, *testApp) {}, http.StatusOK, []string{"ready"}},
		{"a table dropped", nil, func(t *testing.T, app *testApp) {
			q := "DROP TABLE appeal_evidences"
			if app.db.Dialector.Name() == "postgres" {
				q += " CASCADE"
			}
			if err := app.db.Exec(q).Error; err != nil {
				t.Fatal(err)
			}
		}, http.StatusServiceUnavailable, []string{"schema: tables missing: appeal_evidences"}},
		{"a migration's row missing", nil, func(t *testing.T, app *testApp) {
			if err := app.db.Exec("DELETE FROM schema_migrations WHERE id = '2026112704_gpus'").Error; err != nil {
				t.Fatal(err)
			}
		}, http.StatusServiceUnavailable, []string{"schema: migrations not applied: 2026112704_gpus"}},
		{"the file store cannot take files", nil, func(t *testing.T, app *testApp) {
			// A file where the directory was: what root, whom no permission stops, cannot write through.
			dir := app.h.files.Dir()
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dir, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, http.StatusServiceUnavailable, []string{"storage: ", "not a directory"}},
		{"less free space than required", map[string]string{"PORTAL_MIN_FREE_BYTES": "4611686018427387904"},
			func(*testing.T, *testApp) {}, http.StatusServiceUnavailable,
			[]string{"disk: ", "fewer than the 4611686018427387904 required (PORTAL_MIN_FREE_BYTES)"}},
	}
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				app := newTestApp(t, kind, tt.env)
				tt.breaks(t, app)
				resp := app.client().get("/readyz")
				body := readAll(resp)
				if resp.StatusCode != tt.want {
					t.Fatalf("status %d, want %d; body:\n%s", resp.StatusCode, tt.want, body)
				}
				for _, s := range tt.says {
					if !strings.Contains(body, s) {
						t.Errorf("body does not say %q:\n%s", s, body)
					}
				}
				if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control %q, want no-store", cc)
				}
			})
		}
	})
}
