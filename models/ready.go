package models

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// ReadyOptions say what Ready checks besides the database itself.
type ReadyOptions struct {
	// Dirs must be writable and keep MinFree bytes free: the data directory
	// and the file store. The SQLite database's own directory is added.
	Dirs []string
	// MinFree is the free space each directory's file system must keep; 0
	// checks none.
	MinFree uint64
	// FreeBytes reports the bytes free in dir's file system; DiskFree when nil.
	FreeBytes func(dir string) (uint64, error)
}

// ReadyProblem is one readiness check that failed.
type ReadyProblem struct {
	Check  string // database, schema, storage or disk
	Detail string
}

func (p ReadyProblem) String() string { return p.Check + ": " + p.Detail }

// Ready proves, as far as it can without keeping anything, that a filing
// would succeed now: a row is written to the database in a transaction that
// is rolled back; every migration is applied and every table is there; each
// directory takes a new file; and each has MinFree bytes free. It returns
// the checks that failed, none when the portal is ready.
func Ready(ctx context.Context, db *gorm.DB, o ReadyOptions, now time.Time) []ReadyProblem {
	var problems []ReadyProblem
	if err := writeProbe(ctx, db, now); err != nil {
		problems = append(problems, ReadyProblem{"database", "a write fails: " + err.Error()})
	}
	for _, p := range schemaProblems(ctx, db) {
		problems = append(problems, ReadyProblem{"schema", p})
	}
	dirs := slices.Clone(o.Dirs)
	if f := sqliteFile(ctx, db); f != "" {
		dirs = append(dirs, filepath.Dir(f))
	}
	free := o.FreeBytes
	if free == nil {
		free = DiskFree
	}
	seen := map[string]bool{}
	for _, d := range dirs {
		if d = filepath.Clean(d); seen[d] {
			continue
		}
		seen[d] = true
		if err := ProbeWritable(d); err != nil {
			problems = append(problems, ReadyProblem{"storage", err.Error()})
			continue
		}
		if o.MinFree == 0 {
			continue
		}
		n, err := free(d)
		switch {
		case errors.Is(err, errors.ErrUnsupported):
		case err != nil:
			problems = append(problems, ReadyProblem{"disk", fmt.Sprintf("%s: free space unknown: %v", d, err)})
		case n < o.MinFree:
			problems = append(problems, ReadyProblem{"disk", fmt.Sprintf("%s: %d bytes free, fewer than the %d required (PORTAL_MIN_FREE_BYTES)", d, n, o.MinFree)})
		}
	}
	return problems
}

// errProbeDone ends the write probe's transaction, which rolls it back.
var errProbeDone = errors.New("readiness probe done")

// writeProbe inserts a file row in a transaction and rolls it back. The row
// has an explicit id, so no PostgreSQL sequence moves; on SQLite the
// transaction takes the write lock as every filing's does.
func writeProbe(ctx context.Context, db *gorm.DB, now time.Time) error {
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		err := tx.Exec(`INSERT INTO stored_files (id, sha256, name, size, kind, uploaded_by_id, created_at)
			VALUES (0, ?, 'readiness probe', 0, ?, 0, ?)`, genesisHash, FilePDF, now.UTC()).Error
		if err != nil {
			return err
		}
		return errProbeDone
	})
	if errors.Is(err, errProbeDone) {
		return nil
	}
	return err
}

// schemaProblems names the migrations not applied and the tables missing.
func schemaProblems(ctx context.Context, db *gorm.DB) []string {
	db = db.WithContext(ctx)
	var problems []string
	var applied []string
	if err := db.Table("schema_migrations").Pluck("id", &applied).Error; err != nil {
		problems = append(problems, "cannot read the applied migrations: "+err.Error())
	} else {
		var missing []string
		for _, m := range migrations() {
			if !slices.Contains(applied, m.ID) {
				missing = append(missing, m.ID)
			}
		}
		if len(missing) > 0 {
			problems = append(problems, "migrations not applied: "+strings.Join(missing, ", "))
		}
	}
	tables, err := db.Migrator().GetTables()
	if err != nil {
		return append(problems, "cannot list the tables: "+err.Error())
	}
	want, err := schemaTables(db)
	if err != nil {
		return append(problems, err.Error())
	}
	var missing []string
	for _, t := range want {
		if !slices.Contains(tables, t) {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		problems = append(problems, "tables missing: "+strings.Join(missing, ", "))
	}
	return problems
}

// schemaTables names the tables of schemaModels, with their many-to-many
// join tables.
func schemaTables(db *gorm.DB) ([]string, error) {
	var names []string
	for _, m := range schemaModels() {
		stmt := &gorm.Statement{DB: db}
		if err := stmt.Parse(m); err != nil {
			return nil, fmt.Errorf("store: table of %T: %w", m, err)
		}
		names = append(names, stmt.Schema.Table)
		for _, rel := range stmt.Schema.Relationships.Relations { // many-to-many join tables
			if rel.JoinTable != nil && !slices.Contains(names, rel.JoinTable.Table) {
				names = append(names, rel.JoinTable.Table)
			}
		}
	}
	return names, nil
}

// sqliteFile is the file of a SQLite database; "" for PostgreSQL or a
// database in memory.
func sqliteFile(ctx context.Context, db *gorm.DB) string {
	if db.Dialector.Name() != "sqlite" {
		return ""
	}
	var file string
	if err := db.WithContext(ctx).Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file).Error; err != nil {
		return ""
	}
	return file
}

// readyPrefix starts the names of ProbeWritable's files.
const readyPrefix = ".ready-"

// ProbeWritable creates, writes and removes a file in dir. Its error names
// the real cause: a read-only file system, a permission, a path that is a
// file, a full disk.
func ProbeWritable(dir string) error {
	f, err := os.CreateTemp(dir, readyPrefix+"*")
	if err != nil {
		return err
	}
	_, werr := f.Write([]byte("ready\n"))
	cerr := f.Close()
	rerr := os.Remove(f.Name())
	return errors.Join(werr, cerr, rerr)
}
