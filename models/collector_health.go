package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"kaiportal/dcgm"
)

// The collector's health, as it reports it (dcgm.Health): the state of
// each endpoint of a cluster, the cluster's last failures (time, endpoint,
// error) and hourly counts of polls and failures per endpoint, from which
// the status page shows failure rates. Auditors read the same rows.

// ClusterEndpoint is the collector's state of one endpoint of a cluster,
// replaced at every report.
type ClusterEndpoint struct {
	ClusterID     uint   `gorm:"primaryKey;autoIncrement:false"`
	EndpointKey   string `gorm:"primaryKey;size:64"` // endpointKey(Endpoint)
	Endpoint      string `gorm:"type:text;not null"`
	Position      int    `gorm:"not null;default:0"` // in the cluster's list
	State         string `gorm:"size:16;not null"`   // dcgm.EndpointOK, …
	Failures      int    `gorm:"not null;default:0"` // failed polls in a row
	GPUsSeen      int    `gorm:"column:gpus_seen;not null;default:0"`
	LastAttemptAt *time.Time
	LastSuccessAt *time.Time
	LastErrorAt   *time.Time
	LastError     string     `gorm:"type:text;not null;default:''"`
	NextAttemptAt *time.Time // when the collector polls it next
	ReportedAt    time.Time  `gorm:"not null"`
}

// PollFailure is one failed poll of a cluster's endpoint. The collector
// keeps the last PORTAL_COLLECTOR_FAILURE_HISTORY of each cluster.
type PollFailure struct {
	ID        uint      `gorm:"primaryKey"`
	ClusterID uint      `gorm:"not null;index:idx_poll_failures_cluster_at,priority:1"`
	At        time.Time `gorm:"not null;index:idx_poll_failures_cluster_at,priority:2"`
	Endpoint  string    `gorm:"type:text;not null"`
	Error     string    `gorm:"type:text;not null"`
	InARow    int       `gorm:"column:in_a_row;not null"` // failed polls in a row, this one included
}

// PollHour counts the polls of an endpoint that started in one UTC hour,
// and how many of them failed.
type PollHour struct {
	ClusterID   uint      `gorm:"primaryKey;autoIncrement:false"`
	EndpointKey string    `gorm:"primaryKey;size:64"`
	Hour        time.Time `gorm:"primaryKey"`
	Endpoint    string    `gorm:"type:text;not null"`
	Polls       int       `gorm:"not null"`
	Failures    int       `gorm:"not null"`
}

// endpointKey identifies an endpoint in keys: its SHA-256, since endpoint
// text is as long as an administrator writes it.
func endpointKey(endpoint string) string {
	sum := sha256.Sum256([]byte(endpoint))
	return hex.EncodeToString(sum[:])
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// RecordHealth implements dcgm.Store: in one transaction, the endpoints'
// states replace the stored ones (endpoints no longer listed go), the
// failures are added and the cluster's last h.Keep kept, and the poll counts
// are added to the stored ones.
func (s TelemetryStore) RecordHealth(ctx context.Context, clusterID uint, h dcgm.Health) error {
	return RecordCollectorHealth(ctx, s.DB, clusterID, h)
}

// RecordCollectorHealth stores what the collector reports about a cluster's
// endpoints (see TelemetryStore.RecordHealth).
func RecordCollectorHealth(ctx context.Context, db *gorm.DB, clusterID uint, h dcgm.Health) error {
	at := h.At.UTC()
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		keys := make([]string, 0, len(h.Endpoints))
		if len(h.Endpoints) > 0 {
			rows := make([]ClusterEndpoint, len(h.Endpoints))
			for i, e := range h.Endpoints {
				rows[i] = ClusterEndpoint{ClusterID: clusterID, EndpointKey: endpointKey(e.Endpoint), Endpoint: e.Endpoint,
					Position: i, State: e.State, Failures: e.Fails, GPUsSeen: e.GPUsSeen,
					LastAttemptAt: timePtr(e.LastAttempt), LastSuccessAt: timePtr(e.LastSuccess),
					LastErrorAt: timePtr(e.LastErrorAt), LastError: e.LastError, NextAttemptAt: timePtr(e.NextAttempt),
					ReportedAt: at}
				keys = append(keys, rows[i].EndpointKey)
			}
			err := tx.Clauses(clause.OnConflict{
				Columns: []clause.Column{{Name: "cluster_id"}, {Name: "endpoint_key"}},
				DoUpdates: clause.AssignmentColumns([]string{"endpoint", "position", "state", "failures", "gpus_seen",
					"last_attempt_at", "last_success_at", "last_error_at", "last_error", "next_attempt_at", "reported_at"}),
			}).Create(&rows).Error
			if err != nil {
				return err
			}
		}
		gone := tx.Where("cluster_id = ?", clusterID)
		if len(keys) > 0 {
			gone = gone.Where("endpoint_key NOT IN ?", keys)
		}
		if err := gone.Delete(&ClusterEndpoint{}).Error; err != nil {
			return err
		}

		if len(h.Failures) > 0 {
			rows := make([]PollFailure, len(h.Failures))
			for i, f := range h.Failures {
				rows[i] = PollFailure{ClusterID: clusterID, At: f.At.UTC(), Endpoint: f.Endpoint, Error: f.Err, InARow: f.Fails}
			}
			if err := tx.CreateInBatches(rows, 200).Error; err != nil {
				return err
			}
			keep := max(h.Keep, 1)
			err := tx.Exec(`DELETE FROM poll_failures WHERE cluster_id = ? AND id NOT IN
				(SELECT id FROM poll_failures WHERE cluster_id = ? ORDER BY at DESC, id DESC LIMIT ?)`,
				clusterID, clusterID, keep).Error
			if err != nil {
				return err
			}
		}

		if len(h.Counts) > 0 {
			rows := make([]PollHour, len(h.Counts))
			for i, n := range h.Counts {
				rows[i] = PollHour{ClusterID: clusterID, EndpointKey: endpointKey(n.Endpoint), Endpoint: n.Endpoint,
					Hour: n.Hour.UTC().Truncate(time.Hour), Polls: n.Polls, Failures: n.Failures}
			}
			err := tx.Clauses(clause.OnConflict{
				Columns: []clause.Column{{Name: "cluster_id"}, {Name: "endpoint_key"}, {Name: "hour"}},
				DoUpdates: clause.Assignments(map[string]any{
					"polls":    gorm.Expr("poll_hours.polls + excluded.polls"),
					"failures": gorm.Expr("poll_hours.failures + excluded.failures"),
				}),
			}).Create(&rows).Error
			if err != nil {
				return err
			}
			// Hours past PollHoursKept go: the table holds at most that
			// many hours per endpoint.
			err = tx.Where("cluster_id = ? AND hour < ?", clusterID, PollHoursCutoff(at)).Delete(&PollHour{}).Error
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: collector health of cluster %d: %w", clusterID, err)
	}
	return nil
}

// Collection states of a cluster beyond those of Cluster.State, from its
// endpoints' states.
const (
	// ClusterRetrying: no endpoint answers, and one at least is retried at
	// the normal interval.
	ClusterRetrying = "retrying"
	// ClusterBackingOff: no endpoint answers; each is retried less often,
	// never more than the collector's maximum back-off apart.
	ClusterBackingOff = "backing_off"
)

// FailureRateWindow is the span over which failure rates are shown.
const FailureRateWindow = 24 * time.Hour

// PollHoursKept is how long an endpoint's hourly poll counts are kept: the
// pages show the last FailureRateWindow; the rest is there for a month's
// look back in the database. A collector report removes the cluster's
// older hours, so poll_hours holds at most 31 × 24 rows per endpoint. The
// failure history (poll_failures) is bounded by count instead: the
// cluster's last PORTAL_COLLECTOR_FAILURE_HISTORY failures.
const PollHoursKept = 31 * 24 * time.Hour

// PollHoursCutoff is the first hour whose poll counts a report at at keeps.
func PollHoursCutoff(at time.Time) time.Time {
	return at.UTC().Add(-PollHoursKept).Truncate(time.Hour)
}

// EndpointHealth is one endpoint of a cluster with its polls and failures
// over the last FailureRateWindow.
type EndpointHealth struct {
	ClusterEndpoint
	Polls, Failures int
}

// FailureRate is the share of failed polls, and false when there were none.
func (e EndpointHealth) FailureRate() (float64, bool) { return rate(e.Failures, e.Polls) }

// ClusterHealth is a cluster's collection as the status pages show it.
type ClusterHealth struct {
	Cluster
	State     string // a Cluster… state
	Endpoints []EndpointHealth
	// Polls and Failures over the last FailureRateWindow, all endpoints together.
	Polls, Failures int
}

// FailureRate is the share of failed polls, and false when there were none.
func (h ClusterHealth) FailureRate() (float64, bool) { return rate(h.Failures, h.Polls) }

func rate(failures, polls int) (float64, bool) {
	if polls == 0 {
		return 0, false
	}
	return float64(failures) / float64(polls), true
}

// ReportedAt is when a collector last reported on the cluster (nil: never).
func (h *ClusterHealth) ReportedAt() *time.Time {
	at := h.StatusAt
	for _, e := range h.Endpoints {
		if at == nil || e.ReportedAt.After(*at) {
			r := e.ReportedAt
			at = &r
		}
	}
	return at
}

// collectionState sums the cluster's collection up at now: waiting before
// any report; stale when no collector has reported for a while (nobody
// polls it); otherwise from its endpoints: ok when all answer, partial when
// some do, retrying or backing off when none does and it is still retried.
// A cluster without endpoint states (an older collector) has Cluster.State.
func (h *ClusterHealth) collectionState(now time.Time) string {
	at := h.ReportedAt()
	switch {
	case at == nil:
		return ClusterWaiting
	case now.Sub(*at) > 3*h.PollInterval()+3*time.Minute:
		return ClusterStale
	case len(h.Endpoints) == 0:
		return h.Cluster.State(now)
	}
	var ok, retrying, backingOff int
	for _, e := range h.Endpoints {
		switch e.State {
		case dcgm.EndpointOK:
			ok++
		case dcgm.EndpointRetrying:
			retrying++
		case dcgm.EndpointBackingOff:
			backingOff++
		}
	}
	switch {
	case ok == len(h.Endpoints):
		return ClusterOK
	case ok > 0:
		return ClusterPartial
	case retrying > 0:
		return ClusterRetrying
	case backingOff > 0:
		return ClusterBackingOff
	}
	return ClusterWaiting
}

// ListClusterHealth returns every cluster by name with its endpoints'
// states and failure counts, summed up at now.
func ListClusterHealth(ctx context.Context, db *gorm.DB, now time.Time) ([]ClusterHealth, error) {
	cs, err := ListClusters(ctx, db)
	if err != nil {
		return nil, err
	}
	return clusterHealth(ctx, db, cs, nil, now)
}

// GetClusterHealth returns one cluster with its endpoints' states and
// failure counts, summed up at now.
func GetClusterHealth(ctx context.Context, db *gorm.DB, id uint, now time.Time) (*ClusterHealth, error) {
	c, err := GetCluster(ctx, db, id)
	if err != nil {
		return nil, err
	}
	hs, err := clusterHealth(ctx, db, []Cluster{*c}, &id, now)
	if err != nil {
		return nil, err
	}
	return &hs[0], nil
}

func clusterHealth(ctx context.Context, db *gorm.DB, cs []Cluster, only *uint, now time.Time) ([]ClusterHealth, error) {
	q := db.WithContext(ctx).Order("cluster_id, position, endpoint")
	if only != nil {
		q = q.Where("cluster_id = ?", *only)
	}
	var eps []ClusterEndpoint
	if err := q.Find(&eps).Error; err != nil {
		return nil, fmt.Errorf("store: cluster endpoints: %w", err)
	}
	type count struct {
		ClusterID   uint
		EndpointKey string
		Polls       int
		Failures    int
	}
	var counts []count
	cq := db.WithContext(ctx).Model(&PollHour{}).
		Select("cluster_id, endpoint_key, SUM(polls) AS polls, SUM(failures) AS failures").
		Where("hour >= ?", now.Add(-FailureRateWindow).UTC().Truncate(time.Hour)).
		Group("cluster_id, endpoint_key")
	if only != nil {
		cq = cq.Where("cluster_id = ?", *only)
	}
	if err := cq.Scan(&counts).Error; err != nil {
		return nil, fmt.Errorf("store: poll counts: %w", err)
	}
	byKey := map[string]count{}
	for _, n := range counts {
		byKey[fmt.Sprint(n.ClusterID, "/", n.EndpointKey)] = n
	}
	out := make([]ClusterHealth, len(cs))
	for i, c := range cs {
		h := ClusterHealth{Cluster: c}
		for _, e := range eps {
			if e.ClusterID != c.ID {
				continue
			}
			n := byKey[fmt.Sprint(c.ID, "/", e.EndpointKey)]
			h.Endpoints = append(h.Endpoints, EndpointHealth{ClusterEndpoint: e, Polls: n.Polls, Failures: n.Failures})
		}
		for _, n := range counts {
			if n.ClusterID == c.ID {
				h.Polls += n.Polls
				h.Failures += n.Failures
			}
		}
		h.State = h.collectionState(now)
		out[i] = h
	}
	return out, nil
}

// ClusterPollFailures returns the stored failures of a cluster, newest first.
func ClusterPollFailures(ctx context.Context, db *gorm.DB, clusterID uint, limit int) ([]PollFailure, error) {
	var fs []PollFailure
	err := db.WithContext(ctx).Where("cluster_id = ?", clusterID).Order("at DESC, id DESC").Limit(limit).Find(&fs).Error
	if err != nil {
		return nil, fmt.Errorf("store: poll failures of cluster %d: %w", clusterID, err)
	}
	return fs, nil
}

// ClusterStates lists the collection states a cluster page may show.
var ClusterStates = []string{ClusterWaiting, ClusterOK, ClusterPartial, ClusterFailing, ClusterRetrying,
	ClusterBackingOff, ClusterStale}
