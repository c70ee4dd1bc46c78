package handlers

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kaiportal/testdb"
)

// lockedBuffer collects log lines written from several goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The periodic sweep removes content older than PORTAL_ORPHAN_AGE that no
// row names, and says so in the log and on /metrics.
func TestOrphanSweepLoggedAndCounted(t *testing.T) {
	t.Parallel()
	testdb.EachKind(t, func(t *testing.T, kind testdb.Kind) {
		var logs lockedBuffer
		app := newTestAppWith(t, kind, func(string) map[string]string {
			return map[string]string{"PORTAL_ORPHAN_AGE": "36h"}
		}, slog.New(slog.NewTextHandler(&logs, nil)))
		dir := app.h.files.Dir()
		age := func(path string, d time.Duration) {
			t.Helper()
			at := app.clock.Now().Add(-d)
			if err := os.Chtimes(path, at, at); err != nil {
				t.Fatal(err)
			}
		}
		put := func(content string) string {
			t.Helper()
			sha, _, err := app.h.files.Put(strings.NewReader(content))
			if err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, sha[0:2], sha[2:4], sha)
		}
		old, young := put("%PDF-1.7 never filed"), put("%PDF-1.7 filed a day ago?")
		age(old, 37*time.Hour)
		age(young, 35*time.Hour)
		tmp := filepath.Join(dir, ".upload-42")
		if err := os.WriteFile(tmp, []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
		age(tmp, 40*time.Hour)

		app.h.sweepOrphans(context.Background())

		if _, err := os.Stat(old); !os.IsNotExist(err) {
			t.Errorf("orphan older than PORTAL_ORPHAN_AGE still there: %v", err)
		}
		if _, err := os.Stat(young); err != nil {
			t.Errorf("orphan younger than PORTAL_ORPHAN_AGE removed: %v", err)
		}
		if _, err := os.Stat(tmp); !os.IsNotExist(err) {
			t.Errorf("old temporary file still there: %v", err)
		}
		if !strings.Contains(logs.String(), `msg="orphan files removed" contents=1 temporaries=1`) {
			t.Errorf("no log line for the sweep:\n%s", logs.String())
		}
		body := readAll(app.client().get("/metrics"))
		for _, want := range []string{`portal_orphan_files_removed_total{kind="content"} 1`,
			`portal_orphan_files_removed_total{kind="temporary"} 1`} {
			if !strings.Contains(body, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})
}
