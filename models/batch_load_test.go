package models_test

import (
	"errors"
	"reflect"
	"testing"

	"gorm.io/gorm"

	"kaiportal/demo"
	"kaiportal/models"
	"kaiportal/testdb"
)

// TestBatchLoadsMatchSingleLoads: GetApplications and AssignmentsFor load
// what GetApplication and ListAssignments load one by one; an unknown
// application is ErrNotFound.
func TestBatchLoadsMatchSingleLoads(t *testing.T) {
	t.Parallel()
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		ctx := t.Context()
		files, err := models.NewFileStore(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := demo.Seed(ctx, db, clock.Now()); err != nil {
			t.Fatal(err)
		}
		if err := demo.SeedApplications(ctx, db, files, clock.Now()); err != nil {
			t.Fatal(err)
		}
		var ids []uint
		if err := db.Model(&models.Application{}).Order("id").Pluck("id", &ids).Error; err != nil || len(ids) != 15 {
			t.Fatalf("applications: %v, %v", ids, err)
		}
		apps, err := models.GetApplications(ctx, db, ids)
		if err != nil {
			t.Fatal(err)
		}
		assignments, err := models.AssignmentsFor(ctx, db, ids)
		if err != nil {
			t.Fatal(err)
		}
		if len(apps) != len(ids) || len(assignments) != len(ids) {
			t.Fatalf("loaded %d applications and assignments of %d, want %d", len(apps), len(assignments), len(ids))
		}
		for _, id := range ids {
			one, err := models.GetApplication(ctx, db, id)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(apps[id], one) {
				t.Errorf("application %d: batch load differs from GetApplication", id)
			}
			as, err := models.ListAssignments(ctx, db, id)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(assignments[id], as) {
				t.Errorf("application %d: batch assignments differ from ListAssignments", id)
			}
		}
		if _, err := models.GetApplications(ctx, db, []uint{ids[0], 999999}); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("unknown application: %v, want ErrNotFound", err)
		}
		if got, err := models.GetApplications(ctx, db, nil); err != nil || len(got) != 0 {
			t.Errorf("no ids: %v, %v", got, err)
		}
	})
}
