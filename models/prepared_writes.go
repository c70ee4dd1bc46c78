package models

import (
	"database/sql"
	"sync"

	"gorm.io/gorm"
)

// preparedWrites keeps, for one SQLite database, the statements of the
// collector's every-minute write prepared: SQLite compiles a statement of
// 500 rows of values in about as long as it runs it, and the same few
// statements come back every minute. It is a gorm plugin so that the
// statements live as long as the database handle (OpenSQLite uses it).
type preparedWrites struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

const preparedWritesName = "kaiportal:prepared-writes"

// maxPreparedWrites bounds the statements kept: the write's full chunks
// have a handful of texts.
const maxPreparedWrites = 8

func (*preparedWrites) Name() string              { return preparedWritesName }
func (*preparedWrites) Initialize(*gorm.DB) error { return nil }

// stmt returns query prepared on the database, preparing it the first time;
// nil when no more are kept.
func (p *preparedWrites) stmt(tx *gorm.DB, query string) (*sql.Stmt, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s, ok := p.stmts[query]; ok {
		return s, nil
	}
	if len(p.stmts) >= maxPreparedWrites {
		return nil, nil
	}
	db, err := tx.DB()
	if err != nil {
		return nil, err
	}
	s, err := db.PrepareContext(tx.Statement.Context, query)
	if err != nil {
		return nil, err
	}
	if p.stmts == nil {
		p.stmts = map[string]*sql.Stmt{}
	}
	p.stmts[query] = s
	return s, nil
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
	s, err := p.stmt(tx, query)
	if err != nil {
		return nil, err
	}
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
	s, err := p.stmt(tx, query)
	if err != nil {
		return err
	}
	if s == nil {
		return tx.Exec(query, args...).Error
	}
	ctx := tx.Statement.Context
	_, err = sqlTx.StmtContext(ctx, s).ExecContext(ctx, args...)
	return err
}
