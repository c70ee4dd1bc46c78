package models_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/models"
	"kaiportal/testdb"
)

var policy = models.SessionPolicy{Idle: 30 * time.Minute, MaxAge: 2 * time.Hour}

func TestSessionExpired(t *testing.T) {
	t.Parallel()
	// Signed in at t0, last seen an hour later; absolute expiry at t0+2h.
	lastSeen := t0.Add(time.Hour)
	s := models.Session{CreatedAt: t0, LastSeenAt: lastSeen, ExpiresAt: t0.Add(policy.MaxAge)}
	tests := []struct {
		name string
		s    models.Session
		now  time.Time
		want bool
	}{
		{"at sign-in", models.Session{CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(policy.MaxAge)}, t0, false},
		{"just seen", s, lastSeen, false},
		{"idle: one second before the limit", s, lastSeen.Add(policy.Idle - time.Second), false},
		{"idle: one nanosecond before the limit", s, lastSeen.Add(policy.Idle - time.Nanosecond), false},
		{"idle: exactly at LastSeenAt+Idle", s, lastSeen.Add(policy.Idle), true},
		{"idle: after the limit", s, lastSeen.Add(policy.Idle + time.Second), true},
		{"absolute: one second before ExpiresAt, recently seen",
			models.Session{LastSeenAt: t0.Add(policy.MaxAge - time.Minute), ExpiresAt: t0.Add(policy.MaxAge)},
			t0.Add(policy.MaxAge - time.Second), false},
		{"absolute: exactly at ExpiresAt, recently seen",
			models.Session{LastSeenAt: t0.Add(policy.MaxAge - time.Minute), ExpiresAt: t0.Add(policy.MaxAge)},
			t0.Add(policy.MaxAge), true},
		{"absolute: after ExpiresAt, seen at that instant",
			models.Session{LastSeenAt: t0.Add(policy.MaxAge + time.Hour), ExpiresAt: t0.Add(policy.MaxAge)},
			t0.Add(policy.MaxAge + time.Hour), true},
		{"zero session", models.Session{}, t0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Expired(tt.now, policy); got != tt.want {
				t.Errorf("Expired(%v) = %v, want %v (last seen %v, expires %v)",
					tt.now, got, tt.want, tt.s.LastSeenAt, tt.s.ExpiresAt)
			}
		})
	}
}

func TestSessionNeedsTouch(t *testing.T) {
	t.Parallel()
	s := models.Session{LastSeenAt: t0}
	tests := []struct {
		since time.Duration
		want  bool
	}{
		{-time.Minute, false}, // a clock behind the row's
		{0, false},
		{59 * time.Second, false},
		{time.Minute - time.Nanosecond, false},
		{time.Minute, true},
		{5 * time.Minute, true},
	}
	for _, tt := range tests {
		t.Run(tt.since.String(), func(t *testing.T) {
			if got := s.NeedsTouch(t0.Add(tt.since)); got != tt.want {
				t.Errorf("NeedsTouch(LastSeenAt+%v) = %v, want %v", tt.since, got, tt.want)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	a, b := models.RandomToken(32), models.RandomToken(32)
	if len(a) != 43 || a == b {
		t.Errorf("RandomToken(32) = %q, %q; want two different 43-character tokens", a, b)
	}
	// The stored form is the hex SHA-256 of the token (sha256sum of "state").
	if got, want := models.HashToken("state"), "4ba69735ca53765ed6a709edb56c6ea236b7193a3b29a6b390c346f0f4340e4e"; got != want {
		t.Errorf("HashToken(%q) = %q, want %q", "state", got, want)
	}
}

func TestSessionStore(t *testing.T) {
	t.Parallel()
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		ctx := t.Context()
		org := mustOrg(t, db, "upstage")
		user := mustUser(t, db, clock.Now(), "company-1", models.RoleCompany, &org.ID)

		token, s, err := models.CreateSession(ctx, db, user.ID, "id-token-jwt", clock.Now(), policy)
		if err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		if token == "" || s.CSRFToken == "" || s.CSRFToken == token {
			t.Fatalf("token %q, CSRF %q: want two different non-empty tokens", token, s.CSRFToken)
		}
		if s.ID == token || s.ID != models.HashToken(token) {
			t.Errorf("session ID = %q, want HashToken(token), not the token", s.ID)
		}
		if !s.ExpiresAt.Equal(t0.Add(policy.MaxAge)) || !s.LastSeenAt.Equal(t0) {
			t.Errorf("session times = last seen %v, expires %v; want %v, %v", s.LastSeenAt, s.ExpiresAt, t0, t0.Add(policy.MaxAge))
		}
		// The database holds the hash only: nothing in it is a usable cookie.
		var byToken, byHash int64
		db.Model(&models.Session{}).Where("id = ?", token).Count(&byToken)
		db.Model(&models.Session{}).Where("id = ?", models.HashToken(token)).Count(&byHash)
		if byToken != 0 || byHash != 1 {
			t.Errorf("rows keyed by token = %d, by hash = %d; want 0 and 1", byToken, byHash)
		}

		clock.Advance(10 * time.Minute)
		got, err := models.LoadSession(ctx, db, token, clock.Now(), policy)
		if err != nil {
			t.Fatalf("LoadSession: %v", err)
		}
		if got.ID != s.ID || got.CSRFToken != s.CSRFToken || got.IDToken != "id-token-jwt" {
			t.Errorf("loaded %+v, want the created session", got)
		}
		if got.User.ID != user.ID || got.User.Role != models.RoleCompany {
			t.Errorf("loaded user = %+v, want user %d preloaded", got.User, user.ID)
		}
		if got.User.Organisation == nil || got.User.Organisation.Code != "upstage" {
			t.Errorf("loaded user organisation = %+v, want upstage preloaded", got.User.Organisation)
		}

		for _, wrong := range []string{"", "not-a-token", s.ID, token + "x", models.RandomToken(32)} {
			if _, err := models.LoadSession(ctx, db, wrong, clock.Now(), policy); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("LoadSession(%q) err = %v, want ErrNotFound", wrong, err)
			}
		}

		// A second sign-in is a second session with its own token.
		token2, _, err := models.CreateSession(ctx, db, user.ID, "", clock.Now(), policy)
		if err != nil || token2 == token {
			t.Fatalf("second session: token %q, err %v; want a new token", token2, err)
		}

		// Touch moves LastSeenAt; delete ends the session.
		clock.Advance(25 * time.Minute)
		if err := models.TouchSession(ctx, db, s.ID, clock.Now()); err != nil {
			t.Fatal(err)
		}
		clock.Advance(25 * time.Minute) // 50 minutes since sign-in, 25 since the touch
		if got, err := models.LoadSession(ctx, db, token, clock.Now(), policy); err != nil || !got.LastSeenAt.Equal(t0.Add(35*time.Minute)) {
			t.Errorf("after touch: %+v, %v; want a live session last seen at t0+35m", got, err)
		}
		if err := models.DeleteSession(ctx, db, s.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := models.LoadSession(ctx, db, token, clock.Now(), policy); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("after delete: err = %v, want ErrNotFound", err)
		}
	})
}

func TestLoadSessionDeletesExpired(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// keepAlive touches the session every 20 minutes until this long after sign-in.
		keepAlive time.Duration
		alive     time.Duration // last instant (after sign-in) the session loads, minus one second
	}{
		{"idle", 0, policy.Idle},
		{"absolute", policy.MaxAge, policy.MaxAge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newClock()
			testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
				clock.Set(t0)
				ctx := t.Context()
				user := mustUser(t, db, clock.Now(), "auditor-1", models.RoleAuditor, nil)
				token, s, err := models.CreateSession(ctx, db, user.ID, "", t0, policy)
				if err != nil {
					t.Fatal(err)
				}
				long := models.SessionPolicy{Idle: 3 * time.Hour, MaxAge: 24 * time.Hour}
				other, _, err := models.CreateSession(ctx, db, user.ID, "", t0, long)
				if err != nil {
					t.Fatal(err)
				}
				for d := 20 * time.Minute; d < tt.keepAlive; d += 20 * time.Minute {
					if err := models.TouchSession(ctx, db, s.ID, t0.Add(d)); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := models.LoadSession(ctx, db, token, t0.Add(tt.alive-time.Second), policy); err != nil {
					t.Fatalf("one second before expiry: %v", err)
				}
				if _, err := models.LoadSession(ctx, db, token, t0.Add(tt.alive), policy); !errors.Is(err, models.ErrNotFound) {
					t.Fatalf("at expiry: err = %v, want ErrNotFound", err)
				}
				var n int64
				db.Model(&models.Session{}).Where("id = ?", s.ID).Count(&n)
				if n != 0 {
					t.Errorf("expired session row still there")
				}
				// Loading it again, even at an earlier instant, finds nothing: it is gone.
				if _, err := models.LoadSession(ctx, db, token, t0, policy); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("after deletion: err = %v, want ErrNotFound", err)
				}
				if _, err := models.LoadSession(ctx, db, other, t0.Add(tt.alive), long); err != nil {
					t.Errorf("another live session was deleted with the expired one: %v", err)
				}
			})
		})
	}
}

func TestDeleteExpiredSessions(t *testing.T) {
	t.Parallel()
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		ctx := t.Context()
		user := mustUser(t, db, t0, "officer-1", models.RoleOfficer, nil)
		now := t0.Add(2 * time.Hour)
		sessions := []struct {
			name      string
			createdAt time.Duration
			touchedAt time.Duration // 0: never touched
			expired   bool
		}{
			{"absolute expiry exactly now, recently touched", 0, 110 * time.Minute, true},
			{"idle exactly Idle", time.Hour, 90 * time.Minute, true},
			{"idle one second short of Idle", time.Hour, 90*time.Minute + time.Second, false},
			{"fresh", 119 * time.Minute, 0, false},
			{"idle long ago", 10 * time.Minute, 0, true},
		}
		ids := make([]string, len(sessions))
		for i, c := range sessions {
			_, s, err := models.CreateSession(ctx, db, user.ID, "", t0.Add(c.createdAt), policy)
			if err != nil {
				t.Fatal(err)
			}
			if c.touchedAt != 0 {
				if err := models.TouchSession(ctx, db, s.ID, t0.Add(c.touchedAt)); err != nil {
					t.Fatal(err)
				}
			}
			ids[i] = s.ID
		}
		liveState, deadState := "state-live", "state-dead"
		for state, exp := range map[string]time.Time{liveState: now.Add(time.Second), deadState: now} {
			if err := models.UseLoginState(ctx, db, state, exp, t0); err != nil {
				t.Fatal(err)
			}
		}

		n, err := models.DeleteExpiredSessions(ctx, db, now, policy)
		if err != nil {
			t.Fatal(err)
		}
		if n != 3 {
			t.Errorf("deleted %d sessions, want 3", n)
		}
		for i, c := range sessions {
			var s models.Session
			err := db.Where("id = ?", ids[i]).First(&s).Error
			gone := errors.Is(err, gorm.ErrRecordNotFound)
			if gone != c.expired {
				t.Errorf("%s: deleted = %v, want %v (err %v)", c.name, gone, c.expired, err)
			}
			// The sweep and Expired agree on every row that is left.
			if err == nil && s.Expired(now, policy) {
				t.Errorf("%s: kept but Expired() says it has expired", c.name)
			}
		}
		var used []models.UsedLoginState
		db.Find(&used)
		if len(used) != 1 || used[0].ID != models.HashToken(liveState) {
			t.Errorf("used login states left = %+v, want only the live one", used)
		}
		if n, err := models.DeleteExpiredSessions(ctx, db, now, policy); err != nil || n != 0 {
			t.Errorf("second sweep = %d, %v; want 0", n, err)
		}
	})
}

func TestUseLoginState(t *testing.T) {
	t.Parallel()
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		ctx := t.Context()
		now := clock.Now()
		expires := now.Add(10 * time.Minute)

		if err := models.UseLoginState(ctx, db, "state-1", expires, now); err != nil {
			t.Fatalf("first use: %v", err)
		}
		var stored models.UsedLoginState
		if err := db.First(&stored).Error; err != nil || stored.ID != models.HashToken("state-1") {
			t.Errorf("stored ID = %q (%v), want the state's hash, not the state", stored.ID, err)
		}
		if err := models.UseLoginState(ctx, db, "state-1", expires, now); !errors.Is(err, models.ErrConflict) {
			t.Errorf("second use: err = %v, want ErrConflict", err)
		}
		// Expiry: one second before is fine, at the expiry it is refused and nothing is written.
		if err := models.UseLoginState(ctx, db, "state-2", expires, expires.Add(-time.Second)); err != nil {
			t.Errorf("one second before expiry: %v", err)
		}
		if err := models.UseLoginState(ctx, db, "state-3", expires, expires); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("at expiry: err = %v, want ErrNotFound", err)
		}
		if n := count(t, db, &models.UsedLoginState{}); n != 2 {
			t.Errorf("used states = %d, want 2", n)
		}
	})
}

func TestUseLoginStateConcurrent(t *testing.T) {
	t.Parallel()
	const rounds, takers = 5, 8
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		clock.Set(t0)
		ctx := t.Context()
		for r := range rounds {
			state := fmt.Sprintf("state-%d", r)
			var (
				wg     sync.WaitGroup
				start  = make(chan struct{})
				mu     sync.Mutex
				wins   int
				others []error
			)
			for range takers {
				wg.Go(func() {
					<-start
					err := models.UseLoginState(ctx, db, state, t0.Add(time.Hour), clock.Now())
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						wins++
					case !errors.Is(err, models.ErrConflict):
						others = append(others, err)
					}
				})
			}
			close(start)
			wg.Wait()
			if wins != 1 || len(others) != 0 {
				t.Errorf("round %d: %d uses succeeded, unexpected errors %v; want exactly one success and ErrConflict for the rest", r, wins, others)
			}
		}
	})
}

// TestSessionTimesAnyZone creates sessions with times in KST and sweeps them
// with times in UTC, and the other way round, as a server in Seoul and a
// sweep run elsewhere would: expiry is an instant, whatever the zone.
func TestSessionTimesAnyZone(t *testing.T) {
	t.Parallel()
	kst := time.FixedZone("KST", 9*60*60)
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		user := mustUser(t, db, t0, "officer-1", models.RoleOfficer, nil)
		for _, zones := range [][2]*time.Location{{kst, time.UTC}, {time.UTC, kst}} {
			create, sweep := zones[0], zones[1]
			_, live, err := models.CreateSession(ctx, db, user.ID, "", t0.Add(time.Hour+50*time.Minute).In(create), policy)
			if err != nil {
				t.Fatal(err)
			}
			_, dead, err := models.CreateSession(ctx, db, user.ID, "", t0.In(create), policy)
			if err != nil {
				t.Fatal(err)
			}
			if err := models.TouchSession(ctx, db, dead.ID, t0.Add(time.Hour+50*time.Minute).In(create)); err != nil {
				t.Fatal(err)
			}
			for state, exp := range map[string]time.Time{"live": t0.Add(3 * time.Hour), "dead": t0.Add(2 * time.Hour)} {
				if err := models.UseLoginState(ctx, db, state, exp.In(create), t0.In(create)); err != nil {
					t.Fatal(err)
				}
			}
			// At t0+2h the first session is past its absolute expiry, the second is not.
			n, err := models.DeleteExpiredSessions(ctx, db, t0.Add(2*time.Hour).In(sweep), policy)
			if err != nil {
				t.Fatal(err)
			}
			var left []models.Session
			db.Find(&left)
			if n != 1 || len(left) != 1 || left[0].ID != live.ID {
				t.Errorf("created in %s, swept in %s: deleted %d, left %d sessions; want the expired one deleted and the live one kept",
					create, sweep, n, len(left))
			}
			var used []models.UsedLoginState
			db.Find(&used)
			if len(used) != 1 || used[0].ID != models.HashToken("live") {
				t.Errorf("created in %s, swept in %s: used login states left = %d, want the live one", create, sweep, len(used))
			}
			db.Where("1 = 1").Delete(&models.Session{})
			db.Where("1 = 1").Delete(&models.UsedLoginState{})
		}
	})
}

// TestSessionKeyedID checks that with a key the stored ID is the token's
// HMAC-SHA256, so that the table alone cannot even be checked against a token.
func TestSessionKeyedID(t *testing.T) {
	t.Parallel()
	clock := newClock()
	testdb.Each(t, clock.Now, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		user := mustUser(t, db, t0, "officer-1", models.RoleOfficer, nil)
		keyed := policy
		keyed.Key = []byte("portal-secret-of-32-bytes-length")

		token, s, err := models.CreateSession(ctx, db, user.ID, "", t0, keyed)
		if err != nil {
			t.Fatal(err)
		}
		m := hmac.New(sha256.New, keyed.Key)
		m.Write([]byte(token))
		if want := hex.EncodeToString(m.Sum(nil)); s.ID != want || s.ID == models.HashToken(token) {
			t.Errorf("keyed session ID = %q, want HMAC-SHA256(key, token) %q", s.ID, want)
		}
		if got, err := models.LoadSession(ctx, db, token, t0, keyed); err != nil || got.ID != s.ID {
			t.Errorf("LoadSession with the key = %v, %v; want the session", got, err)
		}
		otherKey := keyed
		otherKey.Key = []byte("another-secret")
		for name, p := range map[string]models.SessionPolicy{"no key": policy, "another key": otherKey} {
			if _, err := models.LoadSession(ctx, db, token, t0, p); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("LoadSession with %s: err = %v, want ErrNotFound", name, err)
			}
		}
	})
}
