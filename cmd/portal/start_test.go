package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
)

// prodEnv is a complete production configuration on a fresh data directory.
// Nothing here contacts the identity provider.
func prodEnv(t *testing.T) map[string]string {
	env := devEnv(t)
	env["PORTAL_MODE"] = "production"
	env["PORTAL_SESSION_KEY"] = strings.Repeat("k", 40)
	env["OIDC_ISSUER"] = "https://sso.invalid/realms/k-ai"
	env["OIDC_CLIENT_ID"] = "portal"
	env["OIDC_CLIENT_SECRET"] = "secret"
	return env
}

// storeWithFiles puts two contents in the file store of a data directory.
func storeWithFiles(t *testing.T, dataDir string) {
	t.Helper()
	s, err := models.NewFileStore(filepath.Join(dataDir, "files"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"%PDF-1.7 evidence", "%PDF-1.7 business plan"} {
		if _, _, err := s.Put(strings.NewReader(c)); err != nil {
			t.Fatal(err)
		}
	}
}

// A missing or empty database beside a file store that holds files: the
// database was lost. Production refuses to start; development starts and
// says what it did.
func TestStartOnLostDatabase(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dbPath string)
		state string
	}{
		{"missing", func(*testing.T, string) {}, "did not exist"},
		{"empty file", func(t *testing.T, p string) {
			if err := os.WriteFile(p, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "was an empty file"},
		{"no tables", func(t *testing.T, p string) {
			db, err := models.OpenSQLite(p, time.Now)
			if err != nil {
				t.Fatal(err)
			}
			db.Exec("CREATE TABLE notes (x TEXT)")
			models.Close(db)
		}, "has no portal tables"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := prodEnv(t)
			dbPath := filepath.Join(env["PORTAL_DATA_DIR"], "portal.db")
			storeWithFiles(t, env["PORTAL_DATA_DIR"])
			tt.setup(t, dbPath)
			err := run(context.Background(), []string{"migrate"}, envOf(env), io.Discard, io.Discard)
			if err == nil {
				t.Fatal("production started on a new database beside a file store of 2 files")
			}
			for _, want := range []string{dbPath, tt.state, "holds 2 files", "Refusing to start", "restore the database"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error does not say %q: %v", want, err)
				}
			}
			if tt.name == "missing" {
				if _, err := os.Stat(dbPath); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("refusing production created the database file: %v", err)
				}
			}

			env["PORTAL_MODE"] = "development"
			var logs bytes.Buffer
			if err := run(context.Background(), []string{"migrate"}, envOf(env), io.Discard, &logs); err != nil {
				t.Fatalf("development: %v", err)
			}
			for _, want := range []string{"starting on a new, empty database", "files=2", tt.state} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("development log does not say %q:\n%s", want, logs.String())
				}
			}
		})
	}

	// A new database beside an empty file store is a first start: no word of a lost database.
	env := prodEnv(t)
	var logs bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, envOf(env), io.Discard, &logs); err != nil {
		t.Fatalf("first start in production: %v", err)
	}
	for _, lost := range []string{"new, empty database", "file store", "files="} {
		if strings.Contains(logs.String(), lost) {
			t.Errorf("first start warned of a lost database (%q):\n%s", lost, logs.String())
		}
	}
}

// runBriefly runs a command that should refuse to start; one that starts
// anyway (serve) is stopped after a while, and returns nil.
func runBriefly(t *testing.T, cmd string, env map[string]string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return run(ctx, []string{cmd}, envOf(env), io.Discard, io.Discard)
}

// migrated runs migrate on env's data directory and opens its database.
func migrated(t *testing.T, env map[string]string) (*gorm.DB, string) {
	t.Helper()
	if err := run(context.Background(), []string{"migrate"}, envOf(env), io.Discard, io.Discard); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(env["PORTAL_DATA_DIR"], "portal.db")
	db, err := models.OpenSQLite(path, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	return db, path
}

// A rewritten row among the newest audit rows stops the start, naming it;
// audit-verify still runs to report it.
func TestStartChecksAuditTail(t *testing.T) {
	env := devEnv(t)
	ctx := context.Background()
	db, _ := migrated(t, env)
	for i := range 5 {
		err := db.Transaction(func(tx *gorm.DB) error {
			return models.RecordAudit(ctx, tx, models.ActorOf(nil), "test.event", "thing", "1", "event", time.Now().Add(time.Duration(i)*time.Second))
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var last uint
	db.Raw("SELECT MAX(id) FROM audit_entries").Scan(&last)
	if err := db.Exec("DROP TRIGGER audit_entries_no_update").Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Exec("UPDATE audit_entries SET summary = 'nothing happened' WHERE id = ?", last).Error; err != nil {
		t.Fatal(err)
	}
	models.Close(db)

	for _, cmd := range []string{"serve", "migrate"} {
		err := runBriefly(t, cmd, env)
		if err == nil {
			t.Fatalf("%s started on a rewritten audit trail", cmd)
		}
		for _, want := range []string{"audit trail broken at row " + itoa(last), "portal audit-verify"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error does not say %q: %v", cmd, want, err)
			}
		}
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"audit-verify"}, envOf(env), &out, io.Discard); !errors.Is(err, errQuiet) ||
		!strings.Contains(out.String(), "BROKEN at row "+itoa(last)) {
		t.Errorf("audit-verify: %v, %q", err, out.String())
	}
}

func itoa(n uint) string { return strconv.FormatUint(uint64(n), 10) }

// A damaged SQLite file stops the start, saying so.
func TestStartChecksSQLitePages(t *testing.T) {
	env := devEnv(t)
	db, path := migrated(t, env)
	for _, q := range []string{
		"CREATE TABLE filler (b BLOB)",
		"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000) INSERT INTO filler SELECT randomblob(400) FROM n",
	} {
		if err := db.Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
	models.Close(db)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := f.Stat()
	for off := fi.Size() - 20*4096; off < fi.Size(); off += 3 * 4096 {
		f.WriteAt(bytes.Repeat([]byte{0xff}, 16), off)
	}
	f.Close()

	err = runBriefly(t, "serve", env)
	if err == nil || !strings.Contains(err.Error(), "damaged") || !strings.Contains(err.Error(), path) {
		t.Fatalf("serve on a damaged database: %v, want an error naming it damaged", err)
	}
}

// Start errors name the real cause, never SQLite's "no such file or directory".
func TestStartErrorsNameTheCause(t *testing.T) {
	file := func(t *testing.T) string {
		p := filepath.Join(t.TempDir(), "plain-file")
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name string
		env  func(t *testing.T, env map[string]string)
		want []string
	}{
		{"data directory is a file", func(t *testing.T, env map[string]string) {
			env["PORTAL_DATA_DIR"] = file(t)
		}, []string{"data directory (PORTAL_DATA_DIR)", "is a file, not a directory"}},
		{"data directory under a file", func(t *testing.T, env map[string]string) {
			env["PORTAL_DATA_DIR"] = filepath.Join(file(t), "data")
		}, []string{"data directory (PORTAL_DATA_DIR)", "not a directory"}},
		{"file store is a file", func(t *testing.T, env map[string]string) {
			if err := os.WriteFile(filepath.Join(env["PORTAL_DATA_DIR"], "files"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, []string{"file store", "is a file, not a directory"}},
		{"database directory under a file", func(t *testing.T, env map[string]string) {
			env["DATABASE_URL"] = "sqlite:" + filepath.Join(file(t), "portal.db")
		}, []string{"database directory (DATABASE_URL)", "not a directory"}},
		{"database is a directory", func(t *testing.T, env map[string]string) {
			if err := os.Mkdir(filepath.Join(env["PORTAL_DATA_DIR"], "portal.db"), 0o750); err != nil {
				t.Fatal(err)
			}
		}, []string{"is a directory, not a SQLite file"}},
	}
	for _, tt := range tests {
		for _, mode := range []string{"development", "production"} {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				env := prodEnv(t)
				env["PORTAL_MODE"] = mode
				tt.env(t, env)
				err := runBriefly(t, "serve", env)
				if err == nil {
					t.Fatal("started")
				}
				for _, w := range tt.want {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error does not say %q: %v", w, err)
					}
				}
				if strings.Contains(err.Error(), "no such file or directory") {
					t.Errorf("error blames a missing file: %v", err)
				}
			})
		}
	}
}

// A data directory this user may not write to is named as such. Root writes
// through any permission, so as root the test runs itself again as nobody.
func TestStartErrorReadOnlyDataDir(t *testing.T) {
	dir := os.Getenv("PORTAL_TEST_READ_ONLY_DIR")
	if dir == "" {
		base := t.TempDir()
		dir = filepath.Join(base, "data")
		if err := os.Mkdir(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		if os.Geteuid() == 0 {
			asNobody(t, base, dir)
			return
		}
	}
	for _, mode := range []string{"development", "production"} {
		env := prodEnv(t)
		env["PORTAL_MODE"] = mode
		env["PORTAL_DATA_DIR"] = dir
		err := runBriefly(t, "serve", env)
		if err == nil {
			t.Fatalf("%s: started on a read-only data directory", mode)
		}
		for _, w := range []string{"data directory (PORTAL_DATA_DIR) " + dir, "does not take new files", "permission denied"} {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error does not say %q: %v", mode, w, err)
			}
		}
		if strings.Contains(err.Error(), "no such file or directory") {
			t.Errorf("%s: error blames a missing file: %v", mode, err)
		}
	}
}

// asNobody runs TestStartErrorReadOnlyDataDir again, as the user nobody, on
// dir; it skips when setpriv is not there.
func asNobody(t *testing.T, base, dir string) {
	t.Helper()
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("running as root, whom permissions do not stop, and setpriv is not there to run as nobody")
	}
	// nobody must reach the copy of the test binary and the directory.
	for p := base; p != filepath.Dir(p) && p != os.TempDir(); p = filepath.Dir(p) {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "portal.test")
	if err := os.WriteFile(bin, self, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
		bin, "-test.run=^TestStartErrorReadOnlyDataDir$", "-test.v", "-test.count=1")
	cmd.Dir = base
	cmd.Env = append(os.Environ(), "PORTAL_TEST_READ_ONLY_DIR="+dir, "HOME="+base)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestStartErrorReadOnlyDataDir") {
		t.Fatalf("as nobody: %v\n%s", err, out)
	}
}
