package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// AuditEntry is one row of the append-only audit trail. Each row's hash
// covers its own fields and the previous row's hash, so that changing,
// removing or reordering any row breaks the chain from that row on.
type AuditEntry struct {
	ID         uint      `gorm:"primaryKey"`
	At         time.Time `gorm:"not null"`
	ActorID    *uint     `gorm:"index"`
	Actor      string    `gorm:"size:255;not null"` // name and role at the time, kept even if the user changes
	Action     string    `gorm:"size:64;not null;index"`
	ObjectType string    `gorm:"size:64;not null"`
	ObjectID   string    `gorm:"size:64;not null"`
	Summary    string    `gorm:"type:text;not null"`
	PrevHash   string    `gorm:"size:64;not null"`
	Hash       string    `gorm:"size:64;not null;uniqueIndex"`
}

// Audit actions recorded by the foundation.
const (
	ActionSignIn       = "auth.sign_in"
	ActionSignOut      = "auth.sign_out"
	ActionSignInDenied = "auth.sign_in_denied"
	ActionSeed         = "system.seed_demo"
)

// genesisHash is the PrevHash of the first row.
const genesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// auditLockKey is the PostgreSQL advisory lock that serialises appends.
const auditLockKey = 0x4b41_4955_4155_4454 // "KAIUAUDT"

// Actor names who did something, for the audit trail.
type Actor struct {
	ID    *uint
	Label string
}

// ActorOf returns the audit actor for a user; nil is the system.
func ActorOf(u *User) Actor {
	if u == nil {
		return Actor{Label: "system"}
	}
	id := u.ID
	return Actor{ID: &id, Label: fmt.Sprintf("%s (%s)", u.DisplayName(), u.Role)}
}

// computeHash is the chain hash of an entry: SHA-256 over the previous hash
// and the entry's fields, each length-prefixed so no two entries collide.
func (e *AuditEntry) computeHash() string {
	h := sha256.New()
	actorID := ""
	if e.ActorID != nil {
		actorID = strconv.FormatUint(uint64(*e.ActorID), 10)
	}
	for _, f := range []string{e.PrevHash, e.At.UTC().Format(time.RFC3339Nano), actorID, e.Actor,
		e.Action, e.ObjectType, e.ObjectID, e.Summary} {
		fmt.Fprintf(h, "%d:%s;", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// RecordAudit appends an entry to the trail. Call it inside the transaction
// that makes the change it records, so that both are committed or neither.
func RecordAudit(ctx context.Context, tx *gorm.DB, actor Actor, action, objectType, objectID, summary string, now time.Time) error {
	tx = tx.WithContext(ctx)
	if tx.Dialector.Name() == "postgres" {
		// One appender at a time, released at commit; SQLite serialises writers itself.
		if err := tx.Exec("SELECT pg_advisory_xact_lock"+schemaLockKey, auditLockKey).Error; err != nil {
			return fmt.Errorf("store: audit lock: %w", err)
		}
	}
	var last AuditEntry
	prev := genesisHash
	err := tx.Order("id DESC").Limit(1).Take(&last).Error
	switch {
	case err == nil:
		prev = last.Hash
	case !errors.Is(err, gorm.ErrRecordNotFound):
		return fmt.Errorf("store: audit last row: %w", err)
	}
	e := AuditEntry{
		// Microseconds: what both databases store exactly, so the hash survives a round trip.
		At:         now.UTC().Truncate(time.Microsecond),
		ActorID:    actor.ID,
		Actor:      actor.Label,
		Action:     action,
		ObjectType: objectType,
		ObjectID:   objectID,
		Summary:    summary,
		PrevHash:   prev,
	}
	e.Hash = e.computeHash()
	if err := tx.Create(&e).Error; err != nil {
		return fmt.Errorf("store: append audit %s: %w", action, err)
	}
	return nil
}

// AuditCheck is the result of walking the chain.
type AuditCheck struct {
	Rows        int
	BrokenID    uint   // first row that does not verify; 0 when the chain is whole
	BrokenWhy   string // what is wrong with it
	LastHash    string
	CheckedAtID uint

	// Filled by CheckAuditChain: which rows this check read, and when the
	// whole chain was last walked.
	From      uint      // rows after this one were verified now (0: from the first)
	Read      int       // rows read by this check
	Full      bool      // this check walked the whole chain
	CheckedAt time.Time // when this check ran
	FullAt    time.Time // when the whole chain was last walked; zero: never
}

// NewRows is how many rows after From this check read.
func (c AuditCheck) NewRows() int {
	if c.From > 0 && c.Read > 0 {
		return c.Read - 1 // the first row read is From's, verified before
	}
	return c.Read
}

// OK reports whether every row verified.
func (c AuditCheck) OK() bool { return c.BrokenID == 0 }

// VerifyAuditChain recomputes every row's hash in order and reports the
// first row whose hash or link to the previous row does not match. It reads
// the trail in id order (a long trail in a few segments at once, see
// chainWalker) and records nothing; see CheckAuditChain for the pages'
// incremental check.
func VerifyAuditChain(ctx context.Context, db *gorm.DB) (AuditCheck, error) {
	var w chainWalker
	w.start(0, genesisHash)
	if err := w.walk(ctx, db); err != nil {
		return w.check, fmt.Errorf("store: verify audit chain: %w", err)
	}
	return w.check, nil
}

const (
	whyLink    = "previous-hash link does not match the row before (a row was removed, inserted or reordered)"
	whyAltered = "row content does not match its hash (the row was altered)"
	whyAnchor  = "the row verified last time is missing or no longer matches the hash recorded then"
)

// verify checks one row against the hash of the row before it, counts it,
// and moves prev on to its hash. It reports false, recording why, when the
// row does not verify.
func (c *AuditCheck) verify(e *AuditEntry, prev *string) bool {
	c.Rows++
	c.CheckedAtID = e.ID
	switch {
	case e.PrevHash != *prev:
		c.BrokenID, c.BrokenWhy = e.ID, whyLink
	case e.computeHash() != e.Hash:
		c.BrokenID, c.BrokenWhy = e.ID, whyAltered
	}
	if c.BrokenID != 0 {
		return false
	}
	*prev = e.Hash
	return true
}

// VerifyAuditTail checks the last n rows of the trail as VerifyAuditChain
// checks them all: each row's hash, and its link to the row before (the
// first of the n to the row before them, or to the start of the trail). It
// is quick enough for every start; 'portal audit-verify' walks the whole chain.
func VerifyAuditTail(ctx context.Context, db *gorm.DB, n int) (AuditCheck, error) {
	var check AuditCheck
	var rows []AuditEntry
	if err := db.WithContext(ctx).Order("id DESC").Limit(n + 1).Find(&rows).Error; err != nil {
		return check, fmt.Errorf("store: verify audit tail: %w", err)
	}
	slices.Reverse(rows)
	prev := genesisHash
	if len(rows) > n {
		// The row before the tail is taken as it is: its hash is what the
		// tail's first row must link to.
		prev, rows = rows[0].Hash, rows[1:]
	}
	for i := range rows {
		if !check.verify(&rows[i], &prev) {
			break
		}
	}
	check.LastHash = prev
	return check, nil
}

// AuditFilter narrows the audit list. Empty fields do not filter; From and
// To bound At (From inclusive, To exclusive) when they are set.
type AuditFilter struct {
	Actor      string // part of the actor's recorded label, any case
	Action     string
	ObjectType string
	From, To   time.Time
	Limit      int
	Offset     int
}

// ListAudit returns the newest audit rows first.
func ListAudit(ctx context.Context, db *gorm.DB, f AuditFilter) ([]AuditEntry, int64, error) {
	q := db.WithContext(ctx).Model(&AuditEntry{})
	if a := strings.TrimSpace(f.Actor); a != "" {
		q = q.Where(`LOWER(actor) LIKE ? ESCAPE '\'`, "%"+escapeLike(strings.ToLower(a))+"%")
	}
	if a := strings.TrimSpace(f.Action); a != "" {
		q = q.Where("action = ?", a)
	}
	if o := strings.TrimSpace(f.ObjectType); o != "" {
		q = q.Where("object_type = ?", o)
	}
	if !f.From.IsZero() {
		q = q.Where("at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("at < ?", f.To.UTC())
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("store: count audit: %w", err)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	var rows []AuditEntry
	if err := q.Order("id DESC").Limit(f.Limit).Offset(f.Offset).Find(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("store: list audit: %w", err)
	}
	return rows, total, nil
}

// AuditFacets are the actions and object types the trail holds, for the
// audit page's filters.
type AuditFacets struct {
	Actions, ObjectTypes []string
}

// ListAuditFacets returns the distinct actions and object types recorded, sorted.
func ListAuditFacets(ctx context.Context, db *gorm.DB) (AuditFacets, error) {
	var f AuditFacets
	q := db.WithContext(ctx).Model(&AuditEntry{})
	if err := q.Distinct("action").Order("action").Pluck("action", &f.Actions).Error; err != nil {
		return f, fmt.Errorf("store: audit actions: %w", err)
	}
	q = db.WithContext(ctx).Model(&AuditEntry{})
	if err := q.Distinct("object_type").Order("object_type").Pluck("object_type", &f.ObjectTypes).Error; err != nil {
		return f, fmt.Errorf("store: audit object types: %w", err)
	}
	return f, nil
}

// escapeLike escapes the LIKE wildcards of s, with backslash as the escape.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(s)
}
