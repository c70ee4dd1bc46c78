package models

// For the tests of package models_test.
const (
	SchemaLockKey = schemaLockKey
	AuditLockKey  = auditLockKey
)
