package models_test

import (
	"os"
	"testing"

	"kaiportal/testdb"
)

// TestMain runs the tests through testdb.Main, which keeps the PostgreSQL
// schemas of finished tests for reuse and drops them at the end.
func TestMain(m *testing.M) { os.Exit(testdb.Main(m)) }
