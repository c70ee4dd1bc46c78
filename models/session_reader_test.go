package models_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

// The one-statement session read gives what LoadSession (gorm, with its
// preloads) gives, field for field, with the data version of the moment:
// a column added to a session, a user or an organisation and not to the
// statement fails here.
func TestSessionReaderMatchesLoadSession(t *testing.T) {
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		policy := models.SessionPolicy{Idle: 30 * time.Minute, MaxAge: 12 * time.Hour, Key: []byte("k")}
		org := mustOrg(t, db, "reader-org")
		org.BusinessRegNo = "1234567890"
		if err := db.Save(org).Error; err != nil {
			t.Fatal(err)
		}
		withOrg := mustUser(t, db, clock.Now(), "with-org", models.RoleCompany, &org.ID)
		alone := mustUser(t, db, clock.Now(), "alone", models.RoleOfficer, nil)
		reader := models.NewSessionReader(db)
		// Notices, read and unread, of both users: the count read with the
		// session is its own user's unread ones.
		readAt := clock.Now()
		for i, m := range []models.InboxMessage{
			{UserID: withOrg.ID}, {UserID: withOrg.ID}, {UserID: withOrg.ID, ReadAt: &readAt}, {UserID: alone.ID, ReadAt: &readAt},
		} {
			m.Kind, m.Key, m.CreatedAt = "test", fmt.Sprint(i), clock.Now()
			if err := db.Create(&m).Error; err != nil {
				t.Fatal(err)
			}
		}
		for _, u := range []*models.User{withOrg, alone} {
			token, _, err := models.CreateProviderSession(ctx, db, u.ID, "id-token", "sealed", clock.Now(), policy)
			if err != nil {
				t.Fatal(err)
			}
			at := clock.Now().Add(time.Minute)
			if err := db.Model(&models.Session{}).Where("user_id = ?", u.ID).Update("recheck_started_at", at).Error; err != nil {
				t.Fatal(err)
			}
			want, err := models.LoadSession(ctx, db, token, clock.Now(), policy)
			if err != nil {
				t.Fatal(err)
			}
			got, with, err := reader.Load(ctx, token, clock.Now(), policy)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("session of %s read in one statement:\n%+v\nwant (LoadSession)\n%+v", u.Subject, got, want)
			}
			if v, err := models.ReadDataVersion(ctx, db); err != nil || v != with.Version {
				t.Errorf("data version read with the session = %d, want %d (%v)", with.Version, v, err)
			}
			if n, err := models.UnreadCount(ctx, db, u.ID); err != nil || n != with.Unread {
				t.Errorf("unread count of %s read with the session = %d, want %d (%v)", u.Subject, with.Unread, n, err)
			}
		}

		// The user and the organisation, changed through another pool, are
		// read anew; unchanged, they come from memory and still match.
		other := testdb.OpenAgain(t, db, clock.Now)
		token, _, err := models.CreateSession(ctx, db, withOrg.ID, "", clock.Now(), policy)
		if err != nil {
			t.Fatal(err)
		}
		later := clock.Now().Add(10 * time.Minute).UTC()
		for _, change := range []string{"", "UPDATE users SET name = 'Renamed' WHERE id = ?",
			"UPDATE organisations SET name_en = 'Renamed Org' WHERE id = (SELECT organisation_id FROM users WHERE id = ?)",
			"UPDATE sessions SET provider_token = 'resealed' WHERE user_id = ?",
			"UPDATE sessions SET recheck_started_at = NULL WHERE user_id = ?",
			"UPDATE sessions SET last_seen_at = ? WHERE user_id = ?"} {
			switch {
			case strings.Contains(change, "last_seen_at"):
				if err := other.Exec(change, later, withOrg.ID).Error; err != nil {
					t.Fatal(err)
				}
			case change != "":
				if err := other.Exec(change, withOrg.ID).Error; err != nil {
					t.Fatal(err)
				}
			}
			for range 2 {
				want, err := models.LoadSession(ctx, db, token, clock.Now(), policy)
				if err != nil {
					t.Fatal(err)
				}
				got, _, err := reader.Load(ctx, token, clock.Now(), policy)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("after %q: read\n%+v\nwant\n%+v", change, got.User, want.User)
				}
			}
		}
		if s, _, _ := reader.Load(ctx, token, clock.Now(), policy); s.User.Name != "Renamed" || s.User.Organisation.NameEN != "Renamed Org" ||
			s.ProviderToken != "resealed" || !s.LastSeenAt.Equal(later) {
			t.Errorf("the changes are not seen: %+v", s)
		}
		if ok, err := models.SessionRevisionTrigger(ctx, db); err != nil || !ok {
			t.Errorf("the sessions table has no revision trigger (%v)", err)
		}

		if _, _, err := reader.Load(ctx, "no-such-token", clock.Now(), policy); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("unknown token: %v, want ErrNotFound", err)
		}
		token, _, err = models.CreateSession(ctx, db, alone.ID, "", clock.Now(), policy)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := reader.Load(ctx, token, clock.Now().Add(time.Hour), policy); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("session idle past the limit: %v, want ErrNotFound", err)
		}
		if _, err := models.LoadSession(ctx, db, token, clock.Now(), policy); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("the expired session is still there: %v", err)
		}
	})
}
