package models

import (
	"context"
	"database/sql"
	"maps"
	"slices"
	"sync"

	"gorm.io/gorm"
)

// preparedWrites keeps, for one SQLite database, the statements of the
// collector's every-minute write prepared: SQLite compiles a statement of
// 500 rows of values in about as long as it runs it, and the same few
// statements come back every minute. It is a gorm plugin so that the
// statements live as long as the database handle (OpenSQLite uses it).
//
// A statement is never prepared inside the write's transaction: preparing
// on the database takes another connection, which could be one waiting for
// the write lock that transaction holds. The first write runs its
// statements unprepared and notes them; prepareNoted, called after the
// transaction, prepares them for the next writes.
type preparedWrites struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
	noted map[string]bool
}

const preparedWritesName = "kaiportal:prepared-writes"

// maxPreparedWrites bounds the statements kept: the write's full chunks
// have a handful of texts.
const maxPreparedWrites = 8

func (*preparedWrites) Name() string              { return preparedWritesName }
func (*preparedWrites) Initialize(*gorm.DB) error { return nil }

// stmt returns query prepared, or nil (noting it, while fewer than
// maxPreparedWrites are kept) when it is not yet.
func (p *preparedWrites) stmt(query string) *sql.Stmt {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.stmts[query]; ok {
		return s
	}
	if len(p.stmts)+len(p.noted) < maxPreparedWrites {
		if p.noted == nil {
			p.noted = map[string]bool{}
		}
		p.noted[query] = true
	}
	return nil
}

// prepareNoted prepares on db the statements noted by stmt. Call it
// outside any transaction; db without the plugin does nothing. A statement
// that fails to prepare is left to run unprepared.
func prepareNoted(ctx context.Context, db *gorm.DB) {
	p, _ := db.Config.Plugins[preparedWritesName].(*preparedWrites)
	if p == nil {
		return
	}
	p.mu.Lock()
	queries := slices.Collect(maps.Keys(p.noted))
	p.mu.Unlock()
	if len(queries) == 0 {
		return
	}
	sqlDB, err := db.DB()
	if err != nil {
		return
	}
	for _, q := range queries {
		s, err := sqlDB.PrepareContext(ctx, q)
		p.mu.Lock()
		delete(p.noted, q)
		if err == nil && p.stmts[q] == nil {
			if p.stmts == nil {
				p.stmts = map[string]*sql.Stmt{}
			}
			p.stmts[q], s = s, nil
		}
		p.mu.Unlock()
		if s != nil {
			_ = s.Close()
		}
	}
}

// queryPrepared runs query (placeholders ?) with args in the transaction
// tx, from a statement kept prepared when the database keeps them (see
// preparedWrites), as tx.Raw(query, args...).Rows() otherwise.
func queryPrepared(tx *gorm.DB, query string, args ...any) (*sql.Rows, error) {
	p, _ := tx.Config.Plugins[preparedWritesName].(*preparedWrites)
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if p == nil || !ok {
		return tx.Raw(query, args...).Rows()
	}
	s := p.stmt(query)
	if s == nil {
		return tx.Raw(query, args...).Rows()
	}
	ctx := tx.Statement.Context
	return sqlTx.StmtContext(ctx, s).QueryContext(ctx, args...)
}

// execPrepared is queryPrepared for a statement that returns no rows.
func execPrepared(tx *gorm.DB, query string, args ...any) error {
	p, _ := tx.Config.Plugins[preparedWritesName].(*preparedWrites)
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if p == nil || !ok {
		return tx.Exec(query, args...).Error
	}
	s := p.stmt(query)
	if s == nil {
		return tx.Exec(query, args...).Error
	}
	ctx := tx.Statement.Context
	_, err := sqlTx.StmtContext(ctx, s).ExecContext(ctx, args...)
	return err
}
