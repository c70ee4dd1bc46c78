package models

import "time"

// For the tests of package models_test.
const (
	SchemaLockKey = schemaLockKey
	AuditLockKey  = auditLockKey
)

// CollectionState is ClusterHealth.collectionState, for its table test.
func (h *ClusterHealth) CollectionState(now time.Time) string { return h.collectionState(now) }
