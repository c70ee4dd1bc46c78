package models

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
)

// The chain walk reads the rows in id order, one streamed query per
// segment of the id range, and recomputes each row's hash as it reads. A
// long walk is split into a few segments read at once, on connections of
// their own: each row stores the hash of the row before it, so a segment
// can check its rows' hashes and the links between them without the
// segments before it, and only the link of each segment's first row to the
// last row of the segment before is checked afterwards, in order. Merged
// in id order, the first row that does not verify is the same row that a
// walk of one row at a time would name, with the same count of rows.

// auditSegmentMin is the fewest rows of the id range worth a segment, and a
// connection, of their own.
const auditSegmentMin = 50_000

// forcedAuditSegments, when above 0, is how many segments every walk is
// split into (tests use it to walk small chains in parallel).
var forcedAuditSegments atomic.Int32

// auditSegmentsFor is how many segments a walk over span ids is split
// into: one per processor, at most two on SQLite (whose pool keeps four
// connections, for the requests served meanwhile) and four on PostgreSQL,
// and none shorter than auditSegmentMin.
func auditSegmentsFor(dialect string, span int64) int64 {
	if n := int64(forcedAuditSegments.Load()); n > 0 {
		return max(min(n, span), 1)
	}
	most := int64(4)
	if dialect == "sqlite" {
		most = 2
	}
	n := min(int64(runtime.GOMAXPROCS(0)), most, span/auditSegmentMin)
	return max(n, 1)
}

// chainWalker verifies the audit rows from a starting point to the newest.
type chainWalker struct {
	check AuditCheck
	// anchorID, when not 0, is a row verified before: the walk starts at it,
	// and it must still be there with the hash recorded then (anchorHash).
	// When 0, the walk starts at the first row, which must link to
	// anchorHash, the genesis hash.
	anchorID   uint
	anchorHash string
	// read counts the rows read by this walk, up to the first that does not verify.
	read int
}

// start sets the walk to begin after row afterID, whose hash is prev (0 and
// the genesis hash: the start of the trail).
func (w *chainWalker) start(afterID uint, prev string) {
	w.check.LastHash = prev
	w.check.CheckedAtID = afterID
	w.anchorID, w.anchorHash = afterID, prev
}

// walk reads the rows from the anchor (or the first row) up to the newest
// row there is when it starts, verifies them and records in w.check the
// first that does not verify.
func (w *chainWalker) walk(ctx context.Context, db *gorm.DB) error {
	var sqlDB *sql.DB
	switch pool := db.Statement.ConnPool.(type) {
	case *sql.DB:
		sqlDB = pool
	case *gorm.PreparedStmtDB: // the web handlers' pool keeps prepared statements
		sqlDB, _ = pool.ConnPool.(*sql.DB)
	}
	if sqlDB == nil {
		return errors.New("the audit chain is walked on the connection pool, not inside a transaction")
	}
	dialect := db.Dialector.Name()
	var read segmentReader
	switch dialect {
	case "sqlite":
		read = readSQLiteSegment
	case "postgres":
		read = readPostgresSegment
	default:
		return fmt.Errorf("no audit chain walk for %s", dialect)
	}
	var newest sql.NullInt64
	if err := sqlDB.QueryRowContext(ctx, "SELECT MAX(id) FROM audit_entries").Scan(&newest); err != nil {
		return err
	}
	from := int64(w.anchorID)
	segs := planAuditSegments(from, newest.Int64, auditSegmentsFor(dialect, newest.Int64-from+1))
	if err := readAuditSegments(ctx, sqlDB, read, segs); err != nil {
		return err
	}
	w.merge(segs)
	return nil
}

// planAuditSegments splits the ids lo..hi into n ranges of about the same length.
func planAuditSegments(lo, hi, n int64) []*auditSegment {
	if hi < lo {
		return nil
	}
	segs := make([]*auditSegment, 0, n)
	step := (hi - lo + 1) / n
	for i := range n {
		s := &auditSegment{index: int32(i), lo: lo + i*step, hi: lo + (i+1)*step - 1}
		if i == n-1 {
			s.hi = hi
		}
		segs = append(segs, s)
	}
	return segs
}

// segmentReader streams the rows of s.lo..s.hi in id order into s.take,
// stopping when it reports false or when stop falls below s.index.
type segmentReader func(ctx context.Context, db *sql.DB, s *auditSegment, stop *atomic.Int32) error

// readAuditSegments reads the segments at once, each on its own
// connection. A segment that finds a row that does not verify lets the
// segments after it stop: the walk ends at or before that row.
func readAuditSegments(ctx context.Context, db *sql.DB, read segmentReader, segs []*auditSegment) error {
	var stop atomic.Int32
	stop.Store(math.MaxInt32)
	if len(segs) == 1 {
		return read(ctx, db, segs[0], &stop)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
	)
	for _, s := range segs {
		wg.Go(func() {
			if err := read(ctx, db, s, &stop); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		})
	}
	wg.Wait()
	return first
}

// auditSegment is what the walk of one id range found.
type auditSegment struct {
	index  int32
	lo, hi int64

	n         int    // rows taken: the first, the rows after it that verified, and one that did not
	firstID   int64  // the first row: its id, the hash it links to, its hash,
	firstPrev string // and whether its content matches its hash (its link is
	firstHash string // checked when the segments are merged)
	firstOK   bool
	more      int    // rows after the first that verified
	lastID    int64  // the last of them
	last      []byte // the hash of the last row that verified (or of the first row)
	brokenID  int64  // the row after them that did not verify; 0: none
	brokenWhy string

	sum [2 * sha256.Size]byte
}

// auditRow is one row as a reader hands it over; its slices are the
// reader's buffers, valid until the next row.
type auditRow struct {
	id         int64
	prev, hash []byte
	input      []byte // what the hash covers: "len:value;" for prev, at and the fields after it
}

// take checks one row against the rows of the segment before it. It
// reports false when the row does not verify: the segment stops there.
func (s *auditSegment) take(r *auditRow, stop *atomic.Int32) bool {
	if s.n == 0 {
		s.n = 1
		s.firstID, s.firstPrev, s.firstHash = r.id, string(r.prev), string(r.hash)
		s.firstOK = s.matches(r)
		s.last = append(s.last[:0], r.hash...)
		if !s.firstOK {
			lowerTo(stop, s.index)
		}
		return s.firstOK
	}
	s.n++
	switch {
	case !bytes.Equal(r.prev, s.last):
		s.brokenID, s.brokenWhy = r.id, whyLink
	case !s.matches(r):
		s.brokenID, s.brokenWhy = r.id, whyAltered
	default:
		s.more++
		s.lastID = r.id
		s.last = append(s.last[:0], r.hash...)
		return true
	}
	lowerTo(stop, s.index)
	return false
}

// matches reports whether the row's content hashes to its stored hash.
func (s *auditSegment) matches(r *auditRow) bool {
	sum := sha256.Sum256(r.input)
	hex.Encode(s.sum[:], sum[:])
	return bytes.Equal(s.sum[:], r.hash)
}

// lowerTo sets v to i if i is lower.
func lowerTo(v *atomic.Int32, i int32) {
	for {
		old := v.Load()
		if i >= old || v.CompareAndSwap(old, i) {
			return
		}
	}
}

// stopped reports whether an earlier segment found a row that does not verify.
func (s *auditSegment) stopped(stop *atomic.Int32) bool { return stop.Load() < s.index }

// merge goes through the segments in id order as a walk of one row at a
// time would, checking each segment's first row against the row before it,
// and records the first row that does not verify.
func (w *chainWalker) merge(segs []*auditSegment) {
	c := &w.check
	prev := w.anchorHash
	anchored := w.anchorID != 0
	// LastHash is that of the last row that verified.
	defer func() { c.LastHash = prev }()
	for _, s := range segs {
		if s.n == 0 {
			continue
		}
		w.read++
		if anchored {
			anchored = false
			switch {
			case s.firstID != int64(w.anchorID):
				c.BrokenID, c.BrokenWhy = w.anchorID, whyAnchor
			case s.firstHash != w.anchorHash || !s.firstOK:
				c.BrokenID, c.BrokenWhy = uint(s.firstID), whyAnchor
			}
			if c.BrokenID != 0 {
				return
			}
		} else {
			c.Rows++
			c.CheckedAtID = uint(s.firstID)
			switch {
			case s.firstPrev != prev:
				c.BrokenID, c.BrokenWhy = uint(s.firstID), whyLink
			case !s.firstOK:
				c.BrokenID, c.BrokenWhy = uint(s.firstID), whyAltered
			}
			if c.BrokenID != 0 {
				return
			}
			prev = s.firstHash
		}
		if s.more > 0 {
			w.read += s.more
			c.Rows += s.more
			c.CheckedAtID = uint(s.lastID)
			prev = string(s.last)
		}
		if s.brokenID != 0 {
			w.read++
			c.Rows++
			c.CheckedAtID = uint(s.brokenID)
			c.BrokenID, c.BrokenWhy = uint(s.brokenID), s.brokenWhy
			return
		}
	}
	if anchored {
		// The row verified last time is gone, and no row follows it.
		c.BrokenID, c.BrokenWhy = w.anchorID, whyAnchor
	}
}

// stopCheckEvery is how many rows a reader takes between looks at whether
// an earlier segment has found a row that does not verify.
const stopCheckEvery = 4096

// auditColumns are the columns the hash covers after prev_hash, in the
// order computeHash writes them, preceded by hash itself (which it does not).
var auditColumns = [...]string{"at", "prev_hash", "hash", "actor_id", "actor", "action", "object_type", "object_id", "summary"}

// sqliteWalkQuery reads each row as one value, which costs the driver one
// column instead of ten: "id," then the byte lengths of the nine columns as
// the characters of char(), which costs SQLite less than writing them as
// decimals (a length above U+10FFFF comes back as U+FFFD: see
// readSQLiteSegment), then the nine values themselves (concat, unlike
// printf, keeps text past a NUL byte, and writes NULL as nothing).
var sqliteWalkQuery = func() string {
	lengths := make([]string, len(auditColumns))
	for i, c := range auditColumns {
		lengths[i] = "octet_length(" + c + ")"
	}
	return "SELECT concat(id, ',', char(" + strings.Join(lengths, ", ") + "), " + strings.Join(auditColumns[:], ", ") +
		") FROM audit_entries WHERE id >= ? AND id <= ? ORDER BY id"
}()

// sqliteRowQuery reads one row's columns as text, for a row whose lengths
// the walk's record cannot carry.
var sqliteRowQuery = "SELECT id, CAST(at AS TEXT), prev_hash, hash, CAST(actor_id AS TEXT), actor, action, object_type, object_id, summary " +
	"FROM audit_entries WHERE id = ?"

func readSQLiteSegment(ctx context.Context, db *sql.DB, s *auditSegment, stop *atomic.Int32) error {
	// The driver watches a context that can end with a goroutine per row
	// read, which costs more than the row: the query is given one that
	// cannot, and the walk looks at ctx itself between rows.
	rows, err := db.QueryContext(context.WithoutCancel(ctx), sqliteWalkQuery, s.lo, s.hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	var (
		rec    sql.RawBytes
		r      auditRow
		at     []byte
		fields [len(auditColumns)][]byte
	)
	for n := 1; rows.Next(); n++ {
		if err := rows.Scan(&rec); err != nil {
			return err
		}
		id, rest := leadingNumber(rec)
		if id < 0 {
			return fmt.Errorf("audit walk: unreadable record after row %d", r.id)
		}
		r.id = id
		var lengths [len(auditColumns)]int
		total := 0
		for i := range lengths {
			if lengths[i], rest = sqliteChar(rest); lengths[i] < 0 {
				return fmt.Errorf("audit walk: unreadable record of row %d", id)
			}
			total += lengths[i]
		}
		if total != len(rest) {
			// A value longer than char() can say: read the row by itself.
			if fields, err = readSQLiteRow(ctx, db, id); err != nil {
				return err
			}
		} else {
			for i, n := range lengths {
				fields[i], rest = rest[:n], rest[n:]
			}
		}
		at = appendSQLiteTime(at[:0], fields[0])
		r.prev, r.hash = fields[1], fields[2]
		r.input = appendAuditInput(r.input[:0], r.prev, at, fields[3:])
		if !s.take(&r, stop) {
			return nil
		}
		if n%stopCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			if s.stopped(stop) {
				return nil
			}
		}
	}
	return rows.Err()
}

// readSQLiteRow reads one row's columns (in auditColumns' order) by itself.
func readSQLiteRow(ctx context.Context, db *sql.DB, id int64) (fields [len(auditColumns)][]byte, err error) {
	var got int64
	dest := []any{&got}
	for i := range fields {
		dest = append(dest, &fields[i])
	}
	if err := db.QueryRowContext(ctx, sqliteRowQuery, id).Scan(dest...); err != nil {
		return fields, fmt.Errorf("audit walk: row %d: %w", id, err)
	}
	return fields, nil
}

// sqliteChar decodes the first character of b as SQLite's char() writes
// it (UTF-8 without checks, surrogates included) and returns it and the
// rest of b; -1 when b does not start with one.
func sqliteChar(b []byte) (int, []byte) {
	if len(b) == 0 {
		return -1, b
	}
	c := b[0]
	n, v := 0, 0
	switch {
	case c < 0x80:
		return int(c), b[1:]
	case c&0xE0 == 0xC0:
		n, v = 2, int(c&0x1F)
	case c&0xF0 == 0xE0:
		n, v = 3, int(c&0x0F)
	case c&0xF8 == 0xF0:
		n, v = 4, int(c&0x07)
	default:
		return -1, b
	}
	if len(b) < n {
		return -1, b
	}
	for _, k := range b[1:n] {
		if k&0xC0 != 0x80 {
			return -1, b
		}
		v = v<<6 | int(k&0x3F)
	}
	return v, b[n:]
}

// leadingNumber reads the decimal number that b starts with, up to a comma,
// and returns it and what follows the comma; -1 when b does not start so.
func leadingNumber(b []byte) (int64, []byte) {
	var v int64
	for i, c := range b {
		switch {
		case c == ',' && i > 0:
			return v, b[i+1:]
		case c < '0' || c > '9' || i >= 18:
			return -1, b
		}
		v = v*10 + int64(c-'0')
	}
	return -1, b
}

// appendSQLiteTime appends the time t, as the SQLite driver stores a
// time.Time, in the form computeHash hashes (RFC 3339 in UTC, as
// time.RFC3339Nano formats it). The driver's own form in UTC,
// "2006-01-02 15:04:05.999999999+00:00", is rewritten in place; any other
// is read as the driver reads it (the zero time when it cannot be).
func appendSQLiteTime(b, t []byte) []byte {
	if out, ok := appendUTCDriverTime(b, t); ok {
		return out
	}
	s := strings.TrimSuffix(string(t), "Z")
	var parsed time.Time
	for _, layout := range sqlite3.SQLiteTimestampFormats {
		if v, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			parsed = v
			break
		}
	}
	return parsed.UTC().AppendFormat(b, time.RFC3339Nano)
}

// appendUTCDriverTime rewrites "2006-01-02 15:04:05.999999999+00:00", with
// 0 to 9 digits of fraction and every part in range, as
// "2006-01-02T15:04:05.999999999Z", which is what parsing it and formatting
// the time in RFC 3339 gives; ok is false for anything else.
func appendUTCDriverTime(b, t []byte) (out []byte, ok bool) {
	const zone = "+00:00"
	if len(t) < 19+len(zone) || string(t[len(t)-len(zone):]) != zone ||
		t[4] != '-' || t[7] != '-' || t[10] != ' ' || t[13] != ':' || t[16] != ':' {
		return b, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range t[i : i+n] {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, second := num(11, 2), num(14, 2), num(17, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59 ||
		second < 0 || second > 59 || day > time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		return b, false
	}
	frac := t[19 : len(t)-len(zone)]
	if len(frac) > 0 {
		if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 || num(20, len(frac)-1) < 0 {
			return b, false
		}
		frac = bytes.TrimRight(frac, "0")
		if len(frac) == 1 {
			frac = nil
		}
	}
	b = append(b, t[:10]...)
	b = append(b, 'T')
	b = append(b, t[11:19]...)
	b = append(b, frac...)
	return append(b, 'Z'), true
}

// postgresWalkQuery reads the columns as they are stored; the driver hands
// them over in the binary format without converting them.
const postgresWalkQuery = "SELECT id, at, actor_id, actor, action, object_type, object_id, summary, prev_hash, hash " +
	"FROM audit_entries WHERE id >= $1 AND id <= $2 ORDER BY id"

// PostgreSQL type OIDs the walk reads.
const (
	oidInt8, oidInt4, oidText, oidVarchar = 20, 23, 25, 1043
	oidTimestamp, oidTimestamptz          = 1114, 1184
)

func readPostgresSegment(ctx context.Context, db *sql.DB, s *auditSegment, stop *atomic.Int32) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(driverConn any) error {
		c, ok := driverConn.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("audit walk: unexpected PostgreSQL driver %T", driverConn)
		}
		rows, err := c.Conn().Query(ctx, postgresWalkQuery, pgx.QueryResultFormats{pgx.BinaryFormatCode}, s.lo, s.hi)
		if err != nil {
			return err
		}
		defer rows.Close()
		if err := checkPostgresWalkColumns(rows.FieldDescriptions()); err != nil {
			return err
		}
		var (
			r       auditRow
			at      []byte
			actorID []byte
			fields  [6][]byte
		)
		for n := 1; rows.Next(); n++ {
			v := rows.RawValues()
			if len(v[0]) != 8 || len(v[1]) != 8 {
				return errors.New("audit walk: unreadable id or time")
			}
			r.id = int64(binary.BigEndian.Uint64(v[0]))
			at = appendPostgresTime(at[:0], int64(binary.BigEndian.Uint64(v[1])))
			r.prev, r.hash = v[8], v[9]
			switch len(v[2]) { // actor_id: NULL, int4 or int8
			case 0:
				actorID = actorID[:0]
			case 4:
				actorID = strconv.AppendInt(actorID[:0], int64(int32(binary.BigEndian.Uint32(v[2]))), 10)
			case 8:
				actorID = strconv.AppendInt(actorID[:0], int64(binary.BigEndian.Uint64(v[2])), 10)
			default:
				return errors.New("audit walk: unreadable actor id")
			}
			fields[0] = actorID
			copy(fields[1:], v[3:8])
			r.input = appendAuditInput(r.input[:0], r.prev, at, fields[:])
			if !s.take(&r, stop) || n%stopCheckEvery == 0 && s.stopped(stop) {
				return nil
			}
		}
		return rows.Err()
	})
}

// checkPostgresWalkColumns checks that the columns are of the types, and in
// the format, that readPostgresSegment decodes.
func checkPostgresWalkColumns(fds []pgconn.FieldDescription) error {
	if len(fds) != 10 {
		return fmt.Errorf("audit walk: %d columns, want 10", len(fds))
	}
	for i, fd := range fds {
		var ok bool
		switch i {
		case 0, 2:
			ok = fd.DataTypeOID == oidInt8 || fd.DataTypeOID == oidInt4 && i == 2
		case 1:
			ok = fd.DataTypeOID == oidTimestamptz || fd.DataTypeOID == oidTimestamp
		default:
			ok = fd.DataTypeOID == oidText || fd.DataTypeOID == oidVarchar
		}
		if !ok || fd.Format != pgx.BinaryFormatCode {
			return fmt.Errorf("audit walk: column %s has type %d in format %d", fd.Name, fd.DataTypeOID, fd.Format)
		}
	}
	return nil
}

// postgresEpoch is PostgreSQL's time 0, 2000-01-01 UTC, in Unix microseconds.
const postgresEpoch = 946_684_800_000_000

// appendPostgresTime appends a timestamp in PostgreSQL's binary form
// (microseconds since 2000-01-01) as computeHash hashes it.
func appendPostgresTime(b []byte, us int64) []byte {
	switch us {
	case math.MaxInt64:
		return append(b, "infinity"...)
	case math.MinInt64:
		return append(b, "-infinity"...)
	}
	return time.UnixMicro(us+postgresEpoch).UTC().AppendFormat(b, time.RFC3339Nano)
}

// appendAuditInput appends what a row's hash covers, as computeHash
// writes it: "len:value;" for the previous hash, the time (as
// RFC 3339 text) and the six fields after it.
func appendAuditInput(b, prev, at []byte, fields [][]byte) []byte {
	b = appendField(b, prev)
	b = appendField(b, at)
	for _, f := range fields {
		b = appendField(b, f)
	}
	return b
}

// appendField appends "len:value;".
func appendField(b, f []byte) []byte {
	b = strconv.AppendInt(b, int64(len(f)), 10)
	b = append(b, ':')
	b = append(b, f...)
	return append(b, ';')
}
