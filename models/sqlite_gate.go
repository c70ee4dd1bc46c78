package models

import (
	"context"
	"database/sql/driver"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-sqlite3"
)

// writeGate queues this process's write transactions on one SQLite file in
// the order they asked, and wakes the next the moment one ends.
//
// SQLite allows one writer; every transaction here takes the write lock at
// BEGIN (_txlock=immediate). Without the gate a transaction that finds the
// lock taken waits in SQLite's busy handler, which sleeps 1, 2, 5, 10, 15,
// 20, 25 … ms between tries and does not notice the lock coming free in
// between: a long job written in short transactions (the collector's
// 10,000-GPU write, in chunks) left an appeal filing waiting past the whole
// job unless it paused between chunks, and the pauses made the job slow.
// With the gate, a waiting filing takes the lock as soon as a chunk
// commits, and the job needs no pause.
//
// Writers in other processes (a `portal collect` beside `portal serve`)
// still meet SQLite's busy handler; see SQLiteChunkPause.
type writeGate struct {
	token   chan struct{} // holds one token while no transaction is open
	waiting atomic.Int32  // transactions waiting for it (for tests)
}

func newWriteGate() *writeGate {
	g := &writeGate{token: make(chan struct{}, 1)}
	g.token <- struct{}{}
	return g
}

// acquire waits for the token, at most busy (SQLite's own busy timeout) and
// as long as ctx lives. Waiters receive in the order they came: a send on
// a channel hands the value to its longest-waiting receiver.
func (g *writeGate) acquire(ctx context.Context, busy time.Duration) error {
	select {
	case <-g.token:
		return nil
	default:
	}
	g.waiting.Add(1)
	defer g.waiting.Add(-1)
	t := time.NewTimer(busy)
	defer t.Stop()
	select {
	case <-g.token:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		// What SQLite itself answers when its busy timeout runs out, so
		// that callers treat it alike (see Unavailable).
		return sqlite3.Error{Code: sqlite3.ErrBusy}
	}
}

func (g *writeGate) release() { g.token <- struct{}{} }

// writeGates holds one gate per database file, shared by every pool this
// process opens on it.
var writeGates sync.Map // absolute path -> *writeGate

func writeGateFor(path string) *writeGate {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	g, _ := writeGates.LoadOrStore(path, newWriteGate())
	return g.(*writeGate)
}

// gatedConnector opens SQLite connections whose transactions pass the
// file's writeGate.
type gatedConnector struct {
	dsn  string
	busy time.Duration
	gate *writeGate
	drv  *sqlite3.SQLiteDriver
}

func (c *gatedConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &gatedConn{SQLiteConn: conn.(*sqlite3.SQLiteConn), busy: c.busy, gate: c.gate}, nil
}

func (c *gatedConnector) Driver() driver.Driver { return c.drv }

// gatedConn is a SQLite connection whose BEGIN first takes the gate; the
// gate is given back when the transaction commits or rolls back.
type gatedConn struct {
	*sqlite3.SQLiteConn
	busy time.Duration
	gate *writeGate
}

func (c *gatedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if err := c.gate.acquire(ctx, c.busy); err != nil {
		return nil, err
	}
	tx, err := c.SQLiteConn.BeginTx(ctx, opts)
	if err != nil {
		c.gate.release()
		return nil, err
	}
	return &gatedTx{Tx: tx, gate: c.gate}, nil
}

func (c *gatedConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// gatedTx gives the gate back once, however the transaction ends: the
// driver ends the transaction even when COMMIT fails.
type gatedTx struct {
	driver.Tx
	gate *writeGate
	once sync.Once
}

func (t *gatedTx) Commit() error {
	defer t.once.Do(t.gate.release)
	return t.Tx.Commit()
}

func (t *gatedTx) Rollback() error {
	defer t.once.Do(t.gate.release)
	return t.Tx.Rollback()
}
