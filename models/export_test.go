package models

import (
	"testing"
	"time"
)

// For the tests of package models_test.
const AuditLockKey = auditLockKey

// CollectionState is ClusterHealth.collectionState, for its table test.
func (h *ClusterHealth) CollectionState(now time.Time) string { return h.collectionState(now) }

// SetAuditWalkSegments makes every walk of the audit chain during the test
// split the rows into n segments read at once (0: as many as the walk
// chooses), so that small chains take the parallel path.
func SetAuditWalkSegments(t testing.TB, n int) {
	t.Helper()
	old := forcedAuditSegments.Swap(int32(n))
	t.Cleanup(func() { forcedAuditSegments.Store(old) })
}

// AppendSQLiteTime is appendSQLiteTime, for its test.
var AppendSQLiteTime = appendSQLiteTime

// LegacyXIDEvents is the migration that turns legacy XID sample counts into events.
var LegacyXIDEvents = legacyXIDEvents

// AllocLockKey is allocLockKey, for the lock-order tests.
const AllocLockKey = allocLockKey
