package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
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

// runBriefly runs a command that should refuse to start; one that starts
// anyway (serve) is stopped after a while, and returns nil.
func runBriefly(t *testing.T, cmd string, env map[string]string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return run(ctx, []string{cmd}, envOf(env), io.Discard, io.Discard)
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
