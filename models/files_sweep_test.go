package models_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// setAge gives a file in the store the modification time now - age.
func setAge(t *testing.T, path string, now time.Time, age time.Duration) {
	t.Helper()
	if err := os.Chtimes(path, now.Add(-age), now.Add(-age)); err != nil {
		t.Fatal(err)
	}
}

func contentPath(dir, sha string) string { return filepath.Join(dir, sha[0:2], sha[2:4], sha) }

// The sweep removes old content that no row names and old temporary files;
// never content a row names, however old, nor anything recent.
func TestSweepOrphans(t *testing.T) {
	t.Parallel()
	now := t0
	testdb.Each(t, clockNow, func(t *testing.T, db *gorm.DB) {
		s, dir := newStore(t)
		put := func(content []byte, age time.Duration, withRow bool) string {
			t.Helper()
			sha, size, err := s.Put(bytes.NewReader(content))
			if err != nil {
				t.Fatal(err)
			}
			setAge(t, contentPath(dir, sha), now, age)
			if withRow {
				f := models.StoredFile{SHA256: sha, Name: "x.pdf", Size: size, Kind: models.FilePDF, UploadedByID: 1, CreatedAt: now}
				if err := db.Create(&f).Error; err != nil {
					t.Fatal(err)
				}
			}
			return sha
		}
		named := put(pdfOfSize(100), 400*24*time.Hour, true) // a year-old filing's evidence
		orphan := put(pdfOfSize(200), 48*time.Hour, false)   // a filing that never committed
		recent := put(pdfOfSize(300), time.Hour, false)      // a filing perhaps still in progress
		justNamed := put(pdfOfSize(400), 30*time.Hour, true) // named by a row just committed
		temp := func(name string, size int, age time.Duration) {
			t.Helper()
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, make([]byte, size), 0o600); err != nil {
				t.Fatal(err)
			}
			setAge(t, p, now, age)
		}
		temp(".upload-123", 50, 25*time.Hour) // an upload cut off by a crash
		temp(".ready-456", 6, 48*time.Hour)   // a readiness probe's, likewise
		temp(".upload-789", 70, time.Minute)  // an upload being written
		temp("README", 10, 1000*time.Hour)    // not the store's: left alone

		sw, err := s.SweepOrphans(t.Context(), db, now.Add(-24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if want := (models.OrphanSweep{Contents: 1, Temporaries: 2, Bytes: 200 + 50 + 6}); sw != want {
			t.Errorf("sweep = %+v, want %+v", sw, want)
		}
		got := storeFiles(t, dir)
		want := []string{".upload-789", "README"}
		for _, sha := range []string{named, recent, justNamed} {
			want = append(want, filepath.Join(sha[0:2], sha[2:4], sha))
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("store holds %q, want %q", got, want)
		}
		if _, err := os.Stat(contentPath(dir, orphan)); !os.IsNotExist(err) {
			t.Errorf("orphan still there: %v", err)
		}

		// A second sweep finds nothing more.
		if sw, err := s.SweepOrphans(t.Context(), db, now.Add(-24*time.Hour)); err != nil || sw != (models.OrphanSweep{}) {
			t.Errorf("second sweep = %+v, %v; want nothing", sw, err)
		}
	})
}

// Storing content that is already there gives it a fresh time, so that an
// old orphan about to be named by a new row is not swept meanwhile.
func TestPutRefreshesExistingContent(t *testing.T) {
	t.Parallel()
	s, dir := newStore(t)
	sha, _, err := s.Put(bytes.NewReader(tinyPDF))
	if err != nil {
		t.Fatal(err)
	}
	long := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	setAge(t, contentPath(dir, sha), long, 0)
	if _, _, err := s.Put(bytes.NewReader(tinyPDF)); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(contentPath(dir, sha))
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().After(long) {
		t.Errorf("content stored again keeps its time %v", fi.ModTime())
	}
	if files := storeFiles(t, dir); len(files) != 1 {
		t.Errorf("store holds %q, want one content", files)
	}
}
