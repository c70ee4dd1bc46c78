package models_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

const genesis = "0000000000000000000000000000000000000000000000000000000000000000"

// chainHash is the audit chain's hash written out again from its definition
// (SHA-256 over the previous hash and the fields, each as "len:value;"), so
// that a change of format, which would break every chain already stored, fails
// here, and so that the tampering tests can play an attacker who re-hashes.
func chainHash(e models.AuditEntry) string {
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

// appendAudit records n entries, each in its own transaction, moving the
// clock by a second and a few nanoseconds between them (RecordAudit keeps
// microseconds, and the hash must survive the database's round trip).
func appendAudit(t *testing.T, db *gorm.DB, clock *testdb.Clock, n int) {
	t.Helper()
	user := &models.User{ID: 42, Name: "김정책", Role: models.RoleOfficer}
	for i := range n {
		actor := models.ActorOf(nil)
		if i%2 == 1 {
			actor = models.ActorOf(user)
		}
		err := db.WithContext(t.Context()).Transaction(func(tx *gorm.DB) error {
			return models.RecordAudit(t.Context(), tx, actor, "test.action", "application", strconv.Itoa(i+1),
				fmt.Sprintf("row %d: 상태 draft → submitted", i+1), clock.Now())
		})
		if err != nil {
			t.Fatalf("append %d: %v", i+1, err)
		}
		clock.Advance(time.Second + 1234567*time.Nanosecond)
	}
}

func auditRows(t *testing.T, db *gorm.DB) []models.AuditEntry {
	t.Helper()
	var rows []models.AuditEntry
	if err := db.WithContext(t.Context()).Order("id").Find(&rows).Error; err != nil {
		t.Fatalf("load audit rows: %v", err)
	}
	return rows
}

func verify(t *testing.T, db *gorm.DB) models.AuditCheck {
	t.Helper()
	check, err := models.VerifyAuditChain(t.Context(), db)
	if err != nil {
		t.Fatalf("VerifyAuditChain: %v", err)
	}
	return check
}

func TestActorOf(t *testing.T) {
	t.Parallel()
	if a := models.ActorOf(nil); a.ID != nil || a.Label != "system" {
		t.Errorf("ActorOf(nil) = %+v, want the system without an ID", a)
	}
	u := &models.User{ID: 7, Name: "박점검", Role: models.RoleAuditor}
	a := models.ActorOf(u)
	if a.ID == nil || *a.ID != 7 || a.Label != "박점검 (auditor)" {
		t.Errorf("ActorOf(user) = %+v / %v, want ID 7 and label %q", a, a.ID, "박점검 (auditor)")
	}
	u.ID = 8 // the actor keeps the ID it was given
	if *a.ID != 7 {
		t.Errorf("ActorOf aliases the user's ID")
	}
}

func TestAuditChain(t *testing.T) {
	t.Parallel()
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		empty := verify(t, db)
		if !empty.OK() || empty.Rows != 0 || empty.LastHash != genesis {
			t.Errorf("empty chain = %+v, want OK, 0 rows, genesis hash", empty)
		}

		appendAudit(t, db, clock, 5)
		rows := auditRows(t, db)
		if len(rows) != 5 {
			t.Fatalf("rows = %d, want 5", len(rows))
		}
		if rows[0].PrevHash != genesis {
			t.Errorf("first PrevHash = %q, want the genesis hash", rows[0].PrevHash)
		}
		seen := map[string]bool{}
		for i, r := range rows {
			if i > 0 && r.PrevHash != rows[i-1].Hash {
				t.Errorf("row %d PrevHash = %q, want row %d's hash %q", i+1, r.PrevHash, i, rows[i-1].Hash)
			}
			if want := chainHash(r); r.Hash != want {
				t.Errorf("row %d Hash = %q, want %q", i+1, r.Hash, want)
			}
			if seen[r.Hash] {
				t.Errorf("row %d repeats a hash", i+1)
			}
			seen[r.Hash] = true
			wantAt := t0.Add(time.Duration(i) * (time.Second + 1234567*time.Nanosecond)).Truncate(time.Microsecond)
			if !r.At.Equal(wantAt) {
				t.Errorf("row %d At = %v, want %v (the clock's time to the microsecond)", i+1, r.At, wantAt)
			}
		}
		if rows[0].ActorID != nil || rows[0].Actor != "system" || rows[1].ActorID == nil || *rows[1].ActorID != 42 ||
			rows[1].Actor != "김정책 (officer)" {
			t.Errorf("actors = %q/%v, %q/%v; want system and 김정책 (officer)/42", rows[0].Actor, rows[0].ActorID, rows[1].Actor, rows[1].ActorID)
		}

		check := verify(t, db)
		if !check.OK() || check.BrokenWhy != "" {
			t.Fatalf("check = %+v, want a whole chain", check)
		}
		if check.Rows != 5 || check.LastHash != rows[4].Hash || check.CheckedAtID != rows[4].ID {
			t.Errorf("check = %+v, want 5 rows, LastHash %q, checked up to %d", check, rows[4].Hash, rows[4].ID)
		}

		list, total, err := models.ListAudit(t.Context(), db, models.AuditFilter{Action: " test.action ", Limit: 2})
		if err != nil || total != 5 || len(list) != 2 || list[0].ID != rows[4].ID || list[1].ID != rows[3].ID {
			t.Errorf("ListAudit = %d rows of %d (%v), want the 2 newest of 5", len(list), total, err)
		}
		if _, total, _ := models.ListAudit(t.Context(), db, models.AuditFilter{Action: models.ActionSignIn}); total != 0 {
			t.Errorf("ListAudit(sign-in) total = %d, want 0", total)
		}
	})
}

// TestAuditAppendOnly checks that the database itself refuses to change or
// remove audit rows.
func TestAuditAppendOnly(t *testing.T) {
	t.Parallel()
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		appendAudit(t, db, clock, 3)
		before := auditRows(t, db)
		target := before[1]

		err := db.Model(&models.AuditEntry{}).Where("id = ?", target.ID).Update("summary", "nothing happened").Error
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("UPDATE of an audit row: err = %v, want the append-only refusal", err)
		}
		target.Summary = "nothing happened"
		if err := db.Save(&target).Error; err == nil {
			t.Errorf("Save of an altered audit row succeeded")
		}
		err = db.Delete(&models.AuditEntry{}, before[1].ID).Error
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("DELETE of an audit row: err = %v, want the append-only refusal", err)
		}
		err = db.Where("1 = 1").Delete(&models.AuditEntry{}).Error
		if err == nil {
			t.Errorf("DELETE of every audit row succeeded")
		}
		if db.Dialector.Name() == "postgres" { // row triggers do not fire on TRUNCATE
			err = db.Exec("TRUNCATE audit_entries").Error
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("TRUNCATE of the audit trail: err = %v, want the append-only refusal", err)
			}
		}

		after := auditRows(t, db)
		if len(after) != len(before) {
			t.Fatalf("rows = %d after the refused changes, want %d", len(after), len(before))
		}
		for i := range before {
			if after[i].Summary != before[i].Summary || after[i].Hash != before[i].Hash {
				t.Errorf("row %d changed: %+v", i+1, after[i])
			}
		}
		if check := verify(t, db); !check.OK() || check.Rows != 3 {
			t.Errorf("check = %+v, want a whole chain of 3", check)
		}
	})
}

// dropAuditTriggers plays an attacker with direct database access: the
// triggers that refuse changes to the audit trail are dropped. They are
// put back when the test ends, so that on PostgreSQL the schema matches
// the template again and is emptied for another test, not dropped (testdb).
func dropAuditTriggers(t *testing.T, db *gorm.DB) {
	t.Helper()
	var defs []string
	var drops []string
	switch db.Dialector.Name() {
	case "sqlite":
		names := []string{"audit_entries_no_delete", "audit_entries_no_update"}
		if err := db.Raw("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name IN ? ORDER BY name", names).
			Scan(&defs).Error; err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			drops = append(drops, "DROP TRIGGER "+n)
		}
	case "postgres":
		if err := db.Raw(`SELECT pg_get_triggerdef(oid) FROM pg_trigger
			WHERE tgrelid = 'audit_entries'::regclass AND tgname = 'audit_entries_no_change'`).Scan(&defs).Error; err != nil {
			t.Fatal(err)
		}
		drops = []string{"DROP TRIGGER audit_entries_no_change ON audit_entries"}
	default:
		t.Fatalf("no triggers known for %s", db.Dialector.Name())
	}
	if len(defs) != len(drops) {
		t.Fatalf("audit triggers found: %q", defs)
	}
	for _, s := range drops {
		if err := db.Exec(s).Error; err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	t.Cleanup(func() {
		for _, d := range defs {
			if err := db.Exec(d).Error; err != nil {
				t.Errorf("put the audit trigger back: %v", err)
			}
		}
	})
}

func TestAuditTamperDetected(t *testing.T) {
	t.Parallel()
	const (
		altered = "altered"
		link    = "previous-hash link"
	)
	type tamper func(t *testing.T, db *gorm.DB, rows []models.AuditEntry)
	update := func(col string, val any) tamper {
		return func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) {
			t.Helper()
			if err := db.Model(&models.AuditEntry{}).Where("id = ?", rows[1].ID).Update(col, val).Error; err != nil {
				t.Fatalf("tamper %s: %v", col, err)
			}
		}
	}
	tests := []struct {
		name   string
		tamper tamper
		broken int // position of the row reported broken, among the rows after tampering
		orig   int // which original row that is (-1: a row the attacker added)
		why    string
	}{
		{"summary of row 2 altered", update("summary", "row 2: 상태 draft → selected"), 1, 1, altered},
		{"actor of row 2 altered", update("actor", "someone else (admin)"), 1, 1, altered},
		{"actor ID of row 2 removed", update("actor_id", nil), 1, 1, altered},
		{"action of row 2 altered", update("action", "test.other"), 1, 1, altered},
		{"object type of row 2 altered", update("object_type", "appeal"), 1, 1, altered},
		{"object ID of row 2 altered", update("object_id", "99"), 1, 1, altered},
		{"time of row 2 moved by a microsecond", func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) {
			update("at", rows[1].At.Add(time.Microsecond))(t, db, rows)
		}, 1, 1, altered},
		{"row 2 deleted: row 3's link breaks", func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) {
			if err := db.Delete(&models.AuditEntry{}, rows[1].ID).Error; err != nil {
				t.Fatalf("tamper: %v", err)
			}
		}, 1, 2, link},
		{"row 2 altered and re-hashed: row 3's link breaks", func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) {
			e := rows[1]
			e.Summary = "row 2: 상태 draft → selected"
			e.Hash = chainHash(e)
			if err := db.Model(&models.AuditEntry{}).Where("id = ?", e.ID).
				Updates(map[string]any{"summary": e.Summary, "hash": e.Hash}).Error; err != nil {
				t.Fatalf("tamper: %v", err)
			}
		}, 2, 2, link},
		{"rows 2 and 3 swapped", func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) {
			// Swap everything but the IDs; hashes are unique, so park one first.
			a, b := rows[1], rows[2]
			if err := db.Model(&models.AuditEntry{}).Where("id = ?", a.ID).Update("hash", "parked").Error; err != nil {
				t.Fatal(err)
			}
			for _, p := range [][2]models.AuditEntry{{b, a}, {a, b}} {
				to, from := p[0], p[1]
				if err := db.Model(&models.AuditEntry{}).Where("id = ?", to.ID).Updates(map[string]any{
					"at": from.At, "actor_id": from.ActorID, "actor": from.Actor, "action": from.Action,
					"object_type": from.ObjectType, "object_id": from.ObjectID, "summary": from.Summary,
					"prev_hash": from.PrevHash, "hash": from.Hash,
				}).Error; err != nil {
					t.Fatalf("swap: %v", err)
				}
			}
		}, 1, 1, link},
		{"forged row appended", func(t *testing.T, db *gorm.DB, rows []models.AuditEntry) {
			e := models.AuditEntry{At: t0, Actor: "system", Action: "test.action", ObjectType: "application",
				ObjectID: "5", Summary: "forged", PrevHash: genesis}
			e.Hash = chainHash(e)
			if err := db.Create(&e).Error; err != nil {
				t.Fatal(err)
			}
		}, 4, -1, link},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
				clock.Set(t0)
				appendAudit(t, db, clock, 4)
				rows := auditRows(t, db)
				if check := verify(t, db); !check.OK() || check.Rows != 4 {
					t.Fatalf("before tampering: %+v, want a whole chain of 4", check)
				}
				dropAuditTriggers(t, db)
				tt.tamper(t, db, rows)
				after := auditRows(t, db)
				want := after[tt.broken]
				if tt.orig >= 0 && want.ID != rows[tt.orig].ID {
					t.Fatalf("fixture: row at position %d is ID %d, want original row %d", tt.broken+1, want.ID, tt.orig+1)
				}

				check := verify(t, db)
				if check.OK() || check.BrokenID != want.ID {
					t.Fatalf("check = %+v, want ID %d reported broken", check, want.ID)
				}
				if !strings.Contains(check.BrokenWhy, tt.why) {
					t.Errorf("BrokenWhy = %q, want it to say %q", check.BrokenWhy, tt.why)
				}
				if check.Rows != tt.broken+1 || check.CheckedAtID != want.ID {
					t.Errorf("check walked %d rows up to ID %d, want %d up to %d", check.Rows, check.CheckedAtID, tt.broken+1, want.ID)
				}
				// LastHash is that of the last row that verified.
				if lastGood := after[tt.broken-1].Hash; check.LastHash != lastGood {
					t.Errorf("LastHash = %q, want the last verified row's %q", check.LastHash, lastGood)
				}
			})
		})
	}
}

// TestAuditSameTransaction checks that an audit row shares the fate of the
// change it records.
func TestAuditSameTransaction(t *testing.T) {
	t.Parallel()
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		ctx := t.Context()
		appendAudit(t, db, clock, 1)

		boom := errors.New("boom")
		err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			o := &models.Organisation{Code: "rolled-back", NameKO: "롤백", NameEN: "Rolled back", Kind: models.OrgCompany}
			if err := tx.Create(o).Error; err != nil {
				return err
			}
			if err := models.RecordAudit(ctx, tx, models.ActorOf(nil), "organisation.create", "organisation", o.Code, "created", clock.Now()); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("transaction err = %v, want boom", err)
		}
		if n := count(t, db, &models.AuditEntry{}); n != 1 {
			t.Errorf("audit rows = %d after a rolled-back change, want 1", n)
		}
		if n := count(t, db, &models.Organisation{}); n != 0 {
			t.Errorf("organisations = %d after the rollback, want 0", n)
		}

		clock.Advance(time.Second)
		appendAudit(t, db, clock, 1)
		rows := auditRows(t, db)
		if len(rows) != 2 || rows[1].PrevHash != rows[0].Hash {
			t.Fatalf("rows = %+v, want two linked rows", rows)
		}
		if check := verify(t, db); !check.OK() || check.Rows != 2 || check.LastHash != rows[1].Hash {
			t.Errorf("check = %+v, want a whole chain of 2", check)
		}
	})
}

func TestAuditConcurrentAppends(t *testing.T) {
	t.Parallel()
	const writers, each = 8, 10
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		ctx := t.Context()
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			errs  = make(chan error, writers*each)
		)
		for w := range writers {
			wg.Go(func() {
				<-start
				for i := range each {
					err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
						return models.RecordAudit(ctx, tx, models.ActorOf(nil), "test.concurrent", "writer",
							strconv.Itoa(w), fmt.Sprintf("writer %d entry %d", w, i), clock.Now())
					})
					if err != nil {
						errs <- fmt.Errorf("writer %d entry %d: %w", w, i, err)
					}
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}

		rows := auditRows(t, db)
		check := verify(t, db)
		if !check.OK() || check.Rows != writers*each {
			t.Fatalf("check = %+v, want a whole chain of %d rows", check, writers*each)
		}
		if check.LastHash != rows[len(rows)-1].Hash {
			t.Errorf("LastHash = %q, want the last row's %q", check.LastHash, rows[len(rows)-1].Hash)
		}
		summaries := map[string]int{}
		for _, r := range rows {
			summaries[r.Summary]++
		}
		for w := range writers {
			for i := range each {
				if s := fmt.Sprintf("writer %d entry %d", w, i); summaries[s] != 1 {
					t.Errorf("%q recorded %d times, want once", s, summaries[s])
				}
			}
		}
	})
}
