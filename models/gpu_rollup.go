package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"kaiportal/dcgm"
)

// Telemetry storage: hourly rollups per device as the collector writes them,
// daily rollups per device kept in step with them (so that a month of 1,000
// GPUs is 30,000 rows to read, not 720,000), the queries the allocation page
// and the usage verification run, and the collector's cluster lease.

// GPURollup is what one device did in one UTC clock hour: the dcgm.Rollup as
// stored. Gaps are unobserved time: they are in neither ObservedS nor
// ActiveS. A physical GPU's row (DeviceKey = UUID) accounts for the whole
// GPU; a MIG instance's row (DeviceKey = UUID/GPU_I_ID) is a breakdown of
// it, never added to it. (Rows written before the collector counted per
// physical GPU have, for a MIG GPU, only its power, energy and XIDs in the
// GPU's row: read this way they are not counted twice, but show no busy time.)
type GPURollup struct {
	DeviceKey string    `gorm:"column:device_key;primaryKey;size:160"`
	Hour      time.Time `gorm:"column:hour;primaryKey;index:idx_rollup_uuid_hour,priority:2;index:idx_rollup_cluster_hour,priority:2"` // start of the hour, UTC
	UUID      string    `gorm:"column:uuid;size:128;not null;index:idx_rollup_uuid_hour,priority:1"`
	ClusterID uint      `gorm:"column:cluster_id;not null;index:idx_rollup_cluster_hour,priority:1"`
	Node      string    `gorm:"column:node;size:255;not null"`
	Model     string    `gorm:"column:model;size:120;not null"`
	ObservedS float64   `gorm:"column:observed_s;not null"`
	ActiveS   float64   `gorm:"column:active_s;not null"`
	UtilSum   float64   `gorm:"column:util_sum;not null"` // ∑ util% × seconds
	GRSum     float64   `gorm:"column:gr_sum;not null"`   // ∑ GR-engine-active ratio × seconds
	SMSum     float64   `gorm:"column:sm_sum;not null"`   // ∑ SM-active ratio × seconds
	EnergyJ   float64   `gorm:"column:energy_j;not null"`
	MaxFBMiB  float64   `gorm:"column:max_fb_mib;not null"`
	XIDCount  int       `gorm:"column:xid_count;not null"` // XID error events (before 2026-12: samples with an XID)
	Samples   int       `gorm:"column:samples;not null"`
	UpdatedAt time.Time `gorm:"column:updated_at;not null"`
	// Profile is a MIG instance's profile ("3g.40gb"); "" for a GPU.
	Profile string `gorm:"column:profile;size:32;not null;default:''"`
	// EnergyAnomalies counts energy counter readings no plausible power
	// explains, whose intervals were estimated from the power reading.
	EnergyAnomalies int `gorm:"column:energy_anomalies;not null;default:0"`
	// LastXID is the GPU's last-XID value at the end of the hour (nil: none
	// seen): a collector taking the cluster over counts events on from it.
	LastXID *int `gorm:"column:last_xid"`
	// BusyThresholdPct is the utilisation (percent) at or above which the
	// hour's observed time was counted busy (ActiveS); rows from before the
	// threshold was a setting counted anything above 0 % and read 0.
	BusyThresholdPct float64 `gorm:"column:busy_threshold_pct;not null;default:0"`
	// Workloads is the hour's time by workload, stored in gpu_workload_hours
	// with the row (see GPUWorkloadHour).
	Workloads map[string]dcgm.WorkloadTime `gorm:"-"`
}

// TableName names the hourly rollup table.
func (GPURollup) TableName() string { return "gpu_rollups" }

// GPURollupDay is what one device did in one KST calendar day: the sum of
// its hourly rollups, rewritten whenever one of them is.
type GPURollupDay struct {
	DeviceKey string    `gorm:"column:device_key;primaryKey;size:160"`
	Day       string    `gorm:"column:day;primaryKey;size:10;index:idx_rollup_day_uuid_day,priority:2"` // 2006-01-02, KST
	UUID      string    `gorm:"column:uuid;size:128;not null;index:idx_rollup_day_uuid_day,priority:1"`
	ClusterID uint      `gorm:"column:cluster_id;not null"`
	Hours     int       `gorm:"column:hours;not null"` // hourly rows summed
	Node      string    `gorm:"column:node;size:255;not null"`
	Model     string    `gorm:"column:model;size:120;not null"`
	ObservedS float64   `gorm:"column:observed_s;not null"`
	ActiveS   float64   `gorm:"column:active_s;not null"`
	UtilSum   float64   `gorm:"column:util_sum;not null"` // ∑ util% × seconds
	GRSum     float64   `gorm:"column:gr_sum;not null"`   // ∑ GR-engine-active ratio × seconds
	SMSum     float64   `gorm:"column:sm_sum;not null"`   // ∑ SM-active ratio × seconds
	EnergyJ   float64   `gorm:"column:energy_j;not null"`
	MaxFBMiB  float64   `gorm:"column:max_fb_mib;not null"`
	XIDCount  int       `gorm:"column:xid_count;not null"`
	Samples   int       `gorm:"column:samples;not null"`
	UpdatedAt time.Time `gorm:"column:updated_at;not null"`
	Profile   string    `gorm:"column:profile;size:32;not null;default:''"`
	// EnergyAnomalies: see GPURollup.
	EnergyAnomalies int `gorm:"column:energy_anomalies;not null;default:0"`
	// The lowest and highest busy threshold of the hours summed (see GPURollup).
	BusyThresholdMin float64 `gorm:"column:busy_threshold_min;not null;default:0"`
	BusyThresholdPct float64 `gorm:"column:busy_threshold_pct;not null;default:0"`
}

// TableName names the daily rollup table.
func (GPURollupDay) TableName() string { return "gpu_rollup_days" }

// rollupColumns are the columns a write replaces in a stored hourly row.
// Not uuid, which its device key names, nor cluster_id, which only a row of
// the same cluster is replaced by: replacing them with the same values
// would still make SQLite rewrite the indexes on them, every minute.
var rollupColumns = []string{"node", "model", "observed_s", "active_s", "util_sum", "gr_sum",
	"sm_sum", "energy_j", "max_fb_mib", "xid_count", "samples", "updated_at", "profile", "energy_anomalies", "last_xid", "busy_threshold_pct"}

// UpsertRollups stores hourly rollups, REPLACING the measures of a (device,
// hour) row that exists, and rewrites the daily rollups of the days they
// fall in, in one transaction. A row stored by another cluster is never
// replaced: the same device reported by two clusters keeps the first's
// history (TelemetryStore refuses the second's rows before they get here). The caller sends each hour's values so far,
// whole, not a delta since its last write: writing the same rollups twice
// changes nothing, and a collector that writes its running totals every
// minute leaves the latest ones. (The collector restores what was stored
// into its totals when it takes a cluster over, so a restart mid-hour loses
// only the time nobody was polling.)
func UpsertRollups(ctx context.Context, db *gorm.DB, rows []GPURollup, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	now = prepareRollups(rows, now)
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return upsertRollups(tx, rows, now)
	})
	if err != nil {
		return fmt.Errorf("store: upsert %d rollups: %w", len(rows), err)
	}
	prepareNoted(ctx, db)
	return nil
}

// prepareRollups aligns the rows' hours and stamps them with now (UTC, returned).
func prepareRollups(rows []GPURollup, now time.Time) time.Time {
	now = now.UTC()
	for i := range rows {
		rows[i].Hour = rows[i].Hour.UTC().Truncate(time.Hour)
		rows[i].UpdatedAt = now
	}
	return now
}

// StoreClusterRollups stores a cluster's hourly rollups as UpsertRollups
// does, but only those of GPUs registered to the cluster: a GPU not
// registered yet is registered to it first (node and model from the rollup,
// the cluster's model when it names none); the rows of a GPU registered to
// another cluster are refused, not stored, and the conflict is recorded
// (see GPUConflict). It returns the number of rows refused.
func StoreClusterRollups(ctx context.Context, db *gorm.DB, clusterID uint, rows []GPURollup, now time.Time) (int, error) {
	return storeClusterRollups(ctx, db, nil, clusterID, rows, now)
}

// RollupChunk is how many rollups one transaction of StoreClusterRollups
// writes on SQLite: the rows of a large cluster are written in several short
// transactions, so that SQLite's write lock is never held long and another
// writer of this process (a form being sent) waits for about one chunk at
// the file's writeGate. Each chunk leaves its GPUs' hourly and daily rows
// consistent; a write that fails part way is written whole again by the
// next one (rollups carry whole totals).
const RollupChunk = 500

// SQLiteChunkPause is the pause between two chunks on SQLite. Writers of
// this process queue at the writeGate and need none; `portal collect`, run
// apart from `portal serve`, sets it (CollectAlonePause) so that the
// portal's writers, waiting in SQLite's busy handler (which sleeps up to
// 25 ms between tries in its first 100 ms), find the lock free between
// chunks.
var SQLiteChunkPause time.Duration

// CollectAlonePause is SQLiteChunkPause for a collector in its own process.
const CollectAlonePause = 30 * time.Millisecond

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// storeClusterRollups is StoreClusterRollups, asking owners (nil: none)
// first which GPUs are known to be the cluster's.
func storeClusterRollups(ctx context.Context, db *gorm.DB, owners *GPUOwners, clusterID uint, rows []GPURollup, now time.Time) (int, error) {
	if len(rows) == 0 {
		return 0, nil
	}
	now = prepareRollups(rows, now)
	db = db.WithContext(ctx)
	fail := func(err error) (int, error) {
		return 0, fmt.Errorf("store: store %d rollups of cluster %d: %w", len(rows), clusterID, err)
	}
	first := map[string]*GPURollup{}
	var unknown []string
	for i := range rows {
		u := rows[i].UUID
		if first[u] == nil {
			first[u] = &rows[i]
			if !owners.owns(clusterID, u, now) {
				unknown = append(unknown, u)
			}
		}
	}
	refused := 0
	if len(unknown) > 0 {
		// Read without the write lock; register and record conflicts in one
		// short transaction only when there is something to write.
		found, err := gpuOwners(db, unknown)
		if err != nil {
			return fail(err)
		}
		var claim, conflict []string
		for _, u := range unknown {
			switch o, ok := found[u]; {
			case !ok:
				claim = append(claim, u)
			case o != clusterID:
				conflict = append(conflict, u)
			}
		}
		if len(claim) > 0 || len(conflict) > 0 {
			err := db.Transaction(func(tx *gorm.DB) error {
				got, err := claimGPUs(tx, clusterID, claim, first, now)
				if err != nil {
					return err
				}
				maps.Copy(found, got)
				for _, u := range unknown {
					if o := found[u]; o != clusterID {
						if err := recordConflict(tx, u, clusterID, o, first[u].Node, now); err != nil {
							return err
						}
					}
				}
				return nil
			})
			if err != nil {
				return fail(err)
			}
		}
		for _, u := range unknown {
			if found[u] == clusterID {
				owners.remember(clusterID, u, now)
			}
		}
		kept := rows[:0:0]
		for _, r := range rows {
			if o, asked := found[r.UUID]; asked && o != clusterID {
				refused++
				continue
			}
			kept = append(kept, r)
		}
		rows = kept
	}
	size, pause := len(rows), time.Duration(0)
	if db.Dialector.Name() == "sqlite" {
		size, pause = RollupChunk, SQLiteChunkPause
	}
	for i := 0; i < len(rows); i += size {
		if i > 0 && pause > 0 {
			// Leave the write lock free long enough for a writer waiting
			// on SQLite's busy handler (which sleeps up to 25 ms between
			// tries in its first 100 ms) to take its turn.
			if err := sleepCtx(ctx, pause); err != nil {
				return fail(err)
			}
		}
		chunk := rows[i:min(i+size, len(rows))]
		if err := db.Transaction(func(tx *gorm.DB) error { return upsertRollups(tx, chunk, now) }); err != nil {
			return fail(err)
		}
	}
	prepareNoted(ctx, db)
	return refused, nil
}

// claimGPUs registers the GPUs not registered yet to the cluster and
// returns who owns each of them now: two clusters claiming one new UUID at
// once, the first insert wins.
func claimGPUs(tx *gorm.DB, clusterID uint, uuids []string, first map[string]*GPURollup, now time.Time) (map[string]uint, error) {
	if len(uuids) == 0 {
		return map[string]uint{}, nil
	}
	var clusterModel *string
	claim := make([]GPU, 0, len(uuids))
	for _, u := range uuids {
		model := first[u].Model
		if model == "" {
			if clusterModel == nil {
				var m string
				if err := tx.Model(&Cluster{}).Where("id = ?", clusterID).Pluck("gpu_model", &m).Error; err != nil {
					return nil, err
				}
				clusterModel = &m
			}
			model = *clusterModel
		}
		claim = append(claim, GPU{ClusterID: clusterID, UUID: u, Node: first[u].Node, Model: model, FirstSeen: now, LastSeen: now})
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(claim, 500).Error; err != nil {
		return nil, err
	}
	return gpuOwners(tx, uuids)
}

// GPUOwners remembers which GPUs are registered to which cluster, so that
// the collector's every-minute write does not ask the database again for
// each of 10,000 GPUs. A GPU never changes cluster once registered (the
// first cluster to report it keeps it; clusters are not deleted), so an
// entry stays true; entries are still asked again after OwnerTTL, so that a
// database restored from a backup is noticed. Only "registered to this
// cluster" is remembered: an unknown GPU, or another cluster's, is always
// asked. The zero value is ready; a nil *GPUOwners remembers nothing.
type GPUOwners struct {
	mu     sync.Mutex
	owned  map[string]ownedGPU // by UUID
	seen   map[string]seenGPU  // by UUID: what RecordGPUs last wrote
	loaded map[uint]bool       // clusters whose stored records seen holds
}

// seenGPU is what RecordGPUs last wrote of a GPU, and when.
type seenGPU struct {
	node, model string
	index       int
	at          time.Time
}

// SeenEvery is how often the collector writes the last-seen time of a GPU
// whose node, index and model have not changed: the GPU list's "last seen"
// is up to this old while the GPU is polled. The GPUs are written a fifth
// at a time, each in its own minute of every five (SeenSlot), so that no
// minute's write carries all of a large cluster's records.
const SeenEvery = 5 * time.Minute

// SeenSlot reports whether at falls in the minute, of every SeenEvery, in
// which the record of the GPU uuid is written when unchanged.
func SeenSlot(uuid string, at time.Time) bool {
	h := fnv.New32a()
	h.Write([]byte(uuid))
	slots := int64(SeenEvery / time.Minute)
	return int64(h.Sum32())%slots == at.Unix()/60%slots
}

// seenDue reports whether an unchanged GPU's record, last written at last,
// is written again at at: in its slot (and not already this minute), or
// SeenEvery after the last write whatever the slot (a write that skipped a
// minute).
func seenDue(uuid string, last, at time.Time) bool {
	if at.Before(last) {
		return true
	}
	age := at.Sub(last)
	return age >= SeenEvery || (age >= time.Minute && SeenSlot(uuid, at))
}

// unchanged keeps, of the GPUs seen, those whose record must be written:
// new, changed, or due (seenDue).
func (o *GPUOwners) unchanged(cluster uint, gpus []SeenGPU, at time.Time) []SeenGPU {
	if o == nil {
		return gpus
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	out := gpus[:0:0]
	for _, g := range gpus {
		e, ok := o.seen[g.UUID]
		own, owned := o.owned[g.UUID]
		if ok && owned && own.cluster == cluster && e.node == g.Node && e.model == g.Model && e.index == g.Index &&
			!seenDue(g.UUID, e.at, at) {
			continue
		}
		out = append(out, g)
	}
	return out
}

// loadSeen fills, once per cluster, what is remembered of the cluster's
// GPU records from the database: after a start the first write then
// rewrites only the records that changed or are due, not every GPU of the
// cluster. A failed read is left for the next write to try again.
func (o *GPUOwners) loadSeen(ctx context.Context, db *gorm.DB, cluster uint) {
	if o == nil {
		return
	}
	o.mu.Lock()
	done := o.loaded[cluster]
	o.mu.Unlock()
	if done {
		return
	}
	var rows []struct {
		UUID     string `gorm:"column:uuid"`
		Node     string
		GPUIndex int `gorm:"column:gpu_index"`
		Model    string
		LastSeen time.Time
	}
	if err := db.WithContext(ctx).Model(&GPU{}).Select("uuid, node, gpu_index, model, last_seen").
		Where("cluster_id = ?", cluster).Find(&rows).Error; err != nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen == nil {
		o.seen = map[string]seenGPU{}
	}
	if o.loaded == nil {
		o.loaded = map[uint]bool{}
	}
	for _, r := range rows {
		if _, ok := o.seen[r.UUID]; !ok {
			o.seen[r.UUID] = seenGPU{r.Node, r.Model, r.GPUIndex, r.LastSeen.UTC()}
		}
	}
	o.loaded[cluster] = true
}

// recorded notes that the GPUs' records were written at at.
func (o *GPUOwners) recorded(gpus []SeenGPU, at time.Time) {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.seen == nil {
		o.seen = map[string]seenGPU{}
	}
	for _, g := range gpus {
		o.seen[g.UUID] = seenGPU{g.Node, g.Model, g.Index, at}
	}
}

type ownedGPU struct {
	cluster uint
	at      time.Time
}

// OwnerTTL is how long GPUOwners trusts what it remembers.
const OwnerTTL = 10 * time.Minute

func (o *GPUOwners) owns(cluster uint, uuid string, now time.Time) bool {
	if o == nil {
		return false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	e, ok := o.owned[uuid]
	return ok && e.cluster == cluster && now.Sub(e.at) < OwnerTTL && !now.Before(e.at)
}

func (o *GPUOwners) remember(cluster uint, uuid string, now time.Time) {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.owned == nil {
		o.owned = map[string]ownedGPU{}
	}
	o.owned[uuid] = ownedGPU{cluster, now}
}

// Forget drops what is remembered of the cluster's GPUs (nil-safe).
func (o *GPUOwners) Forget(cluster uint) {
	if o == nil {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for u, e := range o.owned {
		if e.cluster == cluster {
			delete(o.owned, u)
			delete(o.seen, u)
		}
	}
	delete(o.loaded, cluster)
}

// upsertRollups is UpsertRollups inside a transaction, rows prepared: the
// hourly rows, their workloads, and the daily rows of their days, moved by
// the difference between each hour's new and stored totals rather than
// summed again from every hour of the day. On SQLite one statement per
// chunk moves them in the database before the new hours replace the stored
// ones (moveDays, kept prepared); on PostgreSQL three statements over the
// rows sent as arrays do it all (upsertRollupsPG). Day rows a difference
// cannot bring up to date are summed again.
func upsertRollups(tx *gorm.DB, rows []GPURollup, now time.Time) error {
	if tx.Dialector.Name() != "sqlite" {
		return upsertRollupsPG(tx, rows, now)
	}
	per := RollupChunk // rows a statement sends: a chunk
	moved, err := moveDays(tx, rows, per, now)
	if err != nil {
		return err
	}
	if err := writeHours(tx, rows, per); err != nil {
		return err
	}
	if err := upsertWorkloads(tx, workloadRows(rows, now)); err != nil {
		return err
	}
	return refreshUnmoved(tx, rows, moved, now)
}

// hourColumns are the columns of gpu_rollups a write sends, in order.
var hourColumns = append([]string{"device_key", "hour", "uuid", "cluster_id"}, rollupColumns...)

// writeHours inserts the hourly rows, per to a statement, replacing the
// measures of a stored row of the same cluster (see rollupColumns).
func writeHours(tx *gorm.DB, rows []GPURollup, per int) error {
	var set strings.Builder
	for i, c := range rollupColumns {
		if i > 0 {
			set.WriteString(", ")
		}
		set.WriteString(c + " = excluded." + c)
	}
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(hourColumns)), ", ") + ")"
	for chunk := range slices.Chunk(rows, per) {
		args := make([]any, 0, len(chunk)*len(hourColumns))
		for _, r := range chunk {
			var lastXID any
			if r.LastXID != nil {
				lastXID = *r.LastXID
			}
			args = append(args, r.DeviceKey, r.Hour, r.UUID, r.ClusterID, r.Node, r.Model, r.ObservedS, r.ActiveS, r.UtilSum,
				r.GRSum, r.SMSum, r.EnergyJ, r.MaxFBMiB, r.XIDCount, r.Samples, r.UpdatedAt, r.Profile, r.EnergyAnomalies,
				lastXID, r.BusyThresholdPct)
		}
		q := "INSERT INTO gpu_rollups (" + strings.Join(hourColumns, ", ") + ") VALUES " +
			strings.TrimSuffix(strings.Repeat(row+", ", len(chunk)), ", ") +
			" ON CONFLICT (device_key, hour) DO UPDATE SET " + set.String() + " WHERE gpu_rollups.cluster_id = excluded.cluster_id"
		exec := execPrepared
		if len(chunk) < per {
			exec = func(tx *gorm.DB, q string, args ...any) error { return tx.Exec(q, args...).Error }
		}
		if err := exec(tx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// deviceDay names a daily rollup row.
type deviceDay struct {
	key string
	day string // 2006-01-02, KST
}

// moveDayColumns are the columns of the rows moveDays sends, in order.
const moveDayColumns = 19

// moveDays moves the daily rows of the hourly rows about to be written by
// new − stored of each hour (one more hour when it was not stored), without
// reading the day's other hours, and returns the daily rows it moved. It
// runs before the hourly rows are written: the stored hours it subtracts
// are read by the statement itself, never brought back. A day row is left
// for a fresh sum (not returned) where a difference cannot say the new
// value — a maximum that went down, a node, model, UUID, profile or busy
// threshold that changed within an hour, a UUID not the day row's — or
// where the day row is missing. (The UUID, which the device key names, is
// never rewritten: SQLite would rewrite its index.)
// Another cluster's stored hour is not replaced, so it moves nothing. (The
// sums moved by differences can differ from a fresh sum in the last binary
// digits; the retention job sums finished days again, see CompactRollups.)
func moveDays(tx *gorm.DB, rows []GPURollup, per int, now time.Time) (map[deviceDay]bool, error) {
	moved := make(map[deviceDay]bool, len(rows))
	// The first row's casts type every column on PostgreSQL, its measures
	// as the columns' exact decimals: there the moved sums are the fresh
	// sums exactly. SQLite stores the hour as the driver's text, compared
	// as sent, and the measures as doubles.
	first := "(?, CAST(? AS timestamptz), ?, CAST(? AS bigint), ?, ?, ?, ?, " + strings.Repeat("CAST(? AS numeric), ", 7) +
		"CAST(? AS bigint), CAST(? AS bigint), CAST(? AS bigint), CAST(? AS numeric))"
	if tx.Dialector.Name() == "sqlite" {
		first = "(?, ?, ?, CAST(? AS bigint), ?, ?, ?, ?, " + strings.Repeat("CAST(? AS double precision), ", 7) +
			"CAST(? AS bigint), CAST(? AS bigint), CAST(? AS bigint), CAST(? AS double precision))"
	}
	for chunk := range slices.Chunk(rows, per) {
		var values strings.Builder
		args := make([]any, 0, len(chunk)*moveDayColumns+1)
		args = append(args, now)
		for i, r := range chunk {
			if i == 0 {
				values.WriteString(first)
			} else {
				values.WriteString(", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			}
			args = append(args, r.DeviceKey, r.Hour, DateOf(r.Hour).String(), r.ClusterID, r.UUID, r.Node, r.Model, r.Profile,
				r.ObservedS, r.ActiveS, r.UtilSum, r.GRSum, r.SMSum, r.EnergyJ, r.MaxFBMiB,
				r.XIDCount, r.Samples, r.EnergyAnomalies, r.BusyThresholdPct)
		}
		// Rows, not Scan: Scan would format the statement with its
		// thousands of values for a log, every time. Full chunks are kept
		// prepared on SQLite.
		query := queryPrepared
		if len(chunk) < per {
			query = func(tx *gorm.DB, q string, args ...any) (*sql.Rows, error) { return tx.Raw(q, args...).Rows() }
		}
		got, err := query(tx, `UPDATE gpu_rollup_days SET `+moveDaySet("?")+`
			FROM (`+moveDaySums(`(SELECT column1 AS device_key, column2 AS hour, column3 AS day, column4 AS cluster_id,
					column5 AS uuid, column6 AS node, column7 AS model, column8 AS profile, column9 AS observed_s,
					column10 AS active_s, column11 AS util_sum, column12 AS gr_sum, column13 AS sm_sum, column14 AS energy_j,
					column15 AS max_fb_mib, column16 AS xid_count, column17 AS samples, column18 AS energy_anomalies,
					column19 AS busy
				FROM (VALUES `+values.String()+`) AS v)`, storedHourJoin)+`) AS m
			WHERE gpu_rollup_days.device_key = m.device_key AND gpu_rollup_days.day = m.day AND m.moves = 1
				AND gpu_rollup_days.uuid = m.uuid_min AND gpu_rollup_days.uuid = m.uuid_max
			RETURNING gpu_rollup_days.device_key, gpu_rollup_days.day`, args...)
		if err != nil {
			return nil, err
		}
		for got.Next() {
			var k deviceDay
			if err := got.Scan(&k.key, &k.day); err != nil {
				got.Close()
				return nil, err
			}
			moved[k] = true
		}
		if err := errors.Join(got.Err(), got.Close()); err != nil {
			return nil, err
		}
	}
	return moved, nil
}

// moveDaySet is the SET list of moveDays' statement: each day row moved
// by the sums m (moveDaySums), updated at the parameter now.
func moveDaySet(now string) string {
	return `observed_s = gpu_rollup_days.observed_s + m.observed_s, active_s = gpu_rollup_days.active_s + m.active_s,
		util_sum = gpu_rollup_days.util_sum + m.util_sum, gr_sum = gpu_rollup_days.gr_sum + m.gr_sum,
		sm_sum = gpu_rollup_days.sm_sum + m.sm_sum, energy_j = gpu_rollup_days.energy_j + m.energy_j,
		xid_count = gpu_rollup_days.xid_count + m.xid_count, samples = gpu_rollup_days.samples + m.samples,
		energy_anomalies = gpu_rollup_days.energy_anomalies + m.energy_anomalies, hours = gpu_rollup_days.hours + m.added,
		max_fb_mib = CASE WHEN m.max_fb_mib > gpu_rollup_days.max_fb_mib THEN m.max_fb_mib ELSE gpu_rollup_days.max_fb_mib END,
		node = CASE WHEN m.node > gpu_rollup_days.node THEN m.node ELSE gpu_rollup_days.node END,
		model = CASE WHEN m.model > gpu_rollup_days.model THEN m.model ELSE gpu_rollup_days.model END,
		profile = CASE WHEN m.profile > gpu_rollup_days.profile THEN m.profile ELSE gpu_rollup_days.profile END,
		cluster_id = CASE WHEN m.cluster_id > gpu_rollup_days.cluster_id THEN m.cluster_id ELSE gpu_rollup_days.cluster_id END,
		busy_threshold_min = CASE WHEN m.busy_min < gpu_rollup_days.busy_threshold_min THEN m.busy_min
			ELSE gpu_rollup_days.busy_threshold_min END,
		busy_threshold_pct = CASE WHEN m.busy_max > gpu_rollup_days.busy_threshold_pct THEN m.busy_max
			ELSE gpu_rollup_days.busy_threshold_pct END,
		updated_at = ` + now
}

// moveDaySums sums, by device and day, new − stored of each hour of the
// rows of source (a FROM item with the columns of moveDays' values, busy
// the hour's threshold), the stored hour h read by stored (storedHourJoin
// or storedHourLateral), with whether the day row can be moved by them
// (moves = 1): a day row moves unless one of its hours' maximum went down or
// its node, model, profile or busy threshold changed within the hour.
func moveDaySums(source, stored string) string {
	return `SELECT n.device_key, n.day, SUM(n.observed_s - COALESCE(h.observed_s, 0)) AS observed_s,
			SUM(n.active_s - COALESCE(h.active_s, 0)) AS active_s, SUM(n.util_sum - COALESCE(h.util_sum, 0)) AS util_sum,
			SUM(n.gr_sum - COALESCE(h.gr_sum, 0)) AS gr_sum, SUM(n.sm_sum - COALESCE(h.sm_sum, 0)) AS sm_sum,
			SUM(n.energy_j - COALESCE(h.energy_j, 0)) AS energy_j, SUM(n.xid_count - COALESCE(h.xid_count, 0)) AS xid_count,
			SUM(n.samples - COALESCE(h.samples, 0)) AS samples,
			SUM(n.energy_anomalies - COALESCE(h.energy_anomalies, 0)) AS energy_anomalies,
			SUM(CASE WHEN h.device_key IS NULL THEN 1 ELSE 0 END) AS added,
			MAX(n.max_fb_mib) AS max_fb_mib, MIN(n.uuid) AS uuid_min, MAX(n.uuid) AS uuid_max, MAX(n.node) AS node, MAX(n.model) AS model,
			MAX(n.profile) AS profile, MAX(n.cluster_id) AS cluster_id, MIN(n.busy) AS busy_min, MAX(n.busy) AS busy_max,
			MIN(CASE WHEN h.device_key IS NULL OR (n.max_fb_mib >= h.max_fb_mib AND n.node = h.node AND n.model = h.model
				AND n.uuid = h.uuid AND n.profile = h.profile AND n.busy = h.busy_threshold_pct) THEN 1 ELSE 0 END) AS moves
		FROM ` + source + ` AS n ` + stored + `
		WHERE h.device_key IS NULL OR h.cluster_id = n.cluster_id
		GROUP BY n.device_key, n.day`
}

// storedHourJoin joins each new hour n to its stored row h (SQLite).
const storedHourJoin = `LEFT JOIN gpu_rollups h ON h.device_key = n.device_key AND h.hour = n.hour`

// storedHourLateral is storedHourJoin for PostgreSQL: a lookup by primary
// key per row. As a plain join the planner hashed the whole table (every
// hour of every GPU) for 10,000 rows; LIMIT keeps the subquery a lookup.
const storedHourLateral = `LEFT JOIN LATERAL (SELECT s.device_key, s.hour, s.cluster_id, s.uuid, s.node, s.model, s.profile,
		s.observed_s, s.active_s, s.util_sum, s.gr_sum, s.sm_sum, s.energy_j, s.max_fb_mib, s.xid_count, s.samples,
		s.energy_anomalies, s.busy_threshold_pct
	FROM gpu_rollups s WHERE s.device_key = n.device_key AND s.hour = n.hour LIMIT 1) h ON true`

// refreshUnmoved sums again, from their hours, the day rows of the rows
// that moveDays did not move.
func refreshUnmoved(tx *gorm.DB, rows []GPURollup, moved map[deviceDay]bool, now time.Time) error {
	resum := map[Date][]string{}
	for _, r := range rows {
		k := deviceDay{r.DeviceKey, DateOf(r.Hour).String()}
		if !moved[k] {
			moved[k] = true // once
			resum[DateOf(r.Hour)] = append(resum[DateOf(r.Hour)], r.DeviceKey)
		}
	}
	for d, keys := range resum {
		for chunk := range slices.Chunk(keys, 500) {
			if err := refreshDays(tx, d, chunk, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// hourKey names a device-hour.
type hourKey struct {
	key  string
	unix int64
}

// refreshDays rewrites the daily rollups of day from the hourly ones: of the
// devices named, or of every device when keys is nil.
func refreshDays(tx *gorm.DB, day Date, keys []string, now time.Time) error {
	where := "hour >= ? AND hour < ?"
	args := []any{day.String(), now, day.Start().UTC(), day.AddDays(1).Start().UTC()}
	if keys != nil {
		where += " AND device_key IN ?"
		args = append(args, keys)
	}
	return tx.Exec(`INSERT INTO gpu_rollup_days (device_key, day, uuid, cluster_id, node, model, observed_s, active_s,
			util_sum, gr_sum, sm_sum, energy_j, max_fb_mib, xid_count, samples, hours, updated_at, profile, energy_anomalies,
			busy_threshold_min, busy_threshold_pct)
		SELECT device_key, ?, MAX(uuid), MAX(cluster_id), MAX(node), MAX(model), SUM(observed_s), SUM(active_s),
			SUM(util_sum), SUM(gr_sum), SUM(sm_sum), SUM(energy_j), MAX(max_fb_mib), SUM(xid_count), SUM(samples),
			COUNT(*), ?, MAX(profile), SUM(energy_anomalies), MIN(busy_threshold_pct), MAX(busy_threshold_pct)
		FROM gpu_rollups WHERE `+where+` GROUP BY device_key
		ON CONFLICT (device_key, day) DO UPDATE SET uuid = excluded.uuid, cluster_id = excluded.cluster_id,
			node = excluded.node, model = excluded.model, observed_s = excluded.observed_s, active_s = excluded.active_s,
			util_sum = excluded.util_sum, gr_sum = excluded.gr_sum, sm_sum = excluded.sm_sum, energy_j = excluded.energy_j,
			max_fb_mib = excluded.max_fb_mib, xid_count = excluded.xid_count, samples = excluded.samples,
			hours = excluded.hours, updated_at = excluded.updated_at, profile = excluded.profile,
			energy_anomalies = excluded.energy_anomalies, busy_threshold_min = excluded.busy_threshold_min,
			busy_threshold_pct = excluded.busy_threshold_pct`, args...).Error
}

// RebuildRollupDays rewrites the daily rollups of the days from..to (KST,
// both included) from the hourly ones, for hourly rows written in bulk
// without UpsertRollups (an import, a benchmark).
func RebuildRollupDays(ctx context.Context, db *gorm.DB, from, to Date, now time.Time) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for d := from; !d.After(to); d = d.AddDays(1) {
			if err := refreshDays(tx, d, nil, now.UTC()); err != nil {
				return fmt.Errorf("store: rebuild daily rollups of %s: %w", d, err)
			}
		}
		return nil
	})
}

// ClusterRollupsSince returns a cluster's stored hourly rollups for the
// hours starting at or after since: what a collector taking the cluster
// over adds its own totals to.
func ClusterRollupsSince(ctx context.Context, db *gorm.DB, clusterID uint, since time.Time) ([]GPURollup, error) {
	var rs []GPURollup
	err := db.WithContext(ctx).Where("cluster_id = ? AND hour >= ?", clusterID, since.UTC().Truncate(time.Hour)).
		Order("hour, device_key").Find(&rs).Error
	if err != nil {
		return nil, fmt.Errorf("store: rollups of cluster %d: %w", clusterID, err)
	}
	return rs, nil
}

// Usage is what an allocation's GPUs did over a range, from the rollups of
// the physical GPUs: a MIG instance's rows are a breakdown of its GPU's (see
// GPURollup), never added to them.
type Usage struct {
	From, To time.Time // the range, clipped to the allocation's period (to the hour)
	// Until is where expected time ends: To, or now when the range runs on
	// past now (expected time never counts the future); From when the range
	// has not begun.
	Until     time.Time
	Allocated int // GPUs in the block (its size): expected time counts every one
	GPUs      int // of them, the GPUs identified by UUID (named in the allocation)
	// ExpectedSeconds is Allocated × (Until − From − downtime): the
	// GPU-seconds the block was lent for so far, the cluster's downtime
	// windows left out (they are DownSeconds). Of them, ExpectedNamedSeconds are the
	// identified GPUs' (telemetry can cover only those); the rest belong to
	// GPUs not yet identified, which no telemetry can be matched to.
	ExpectedSeconds      float64
	ExpectedNamedSeconds float64
	ObservedSeconds      float64 // GPU-seconds covered by telemetry
	ActiveSeconds        float64 // observed GPU-seconds in which the GPU was busy
	UtilSum              float64 // ∑ util% × seconds
	GRSum, SMSum         float64
	EnergyJ              float64
	MaxFBMiB             float64
	XIDCount             int // XID error events
	EnergyAnomalies      int // energy counter readings no plausible power explains
	Samples              int
	Devices              int // physical GPUs with telemetry
	Instances            int // MIG instances with telemetry (a breakdown of Devices)
	// DownSeconds is Allocated × the time of the cluster's downtime windows
	// in the range, plus the time the windows of some nodes or GPUs took
	// identified GPUs down: neither expected, nor idle, nor unobserved.
	DownSeconds float64
	// ObservedDownSeconds is the part of ObservedSeconds that falls in a
	// downtime window of its GPU (telemetry a provider sent while it said
	// the GPU was out of service; an hour partly down counts its share). It
	// is shown as such and left out of coverage: expected time leaves the
	// window out, so it never adds coverage.
	ObservedDownSeconds float64
	// The busy thresholds (percent) the rollups read were folded at: busy
	// time is utilisation at or above it; 0 for rows that counted anything
	// above 0 %. Min < Max when the setting changed within the range.
	BusyThresholdMin, BusyThresholdMax float64
}

// IdleGPUHours is the observed time below the busy threshold.
func (u Usage) IdleGPUHours() float64 { return max(u.ObservedSeconds-u.ActiveSeconds, 0) / 3600 }

// DownGPUHours is the block's time in the cluster's downtime windows.
func (u Usage) DownGPUHours() float64 { return u.DownSeconds / 3600 }

// ExpectedGPUHours is the block's expected time, downtime left out.
func (u Usage) ExpectedGPUHours() float64 { return u.ExpectedSeconds / 3600 }

// InServiceSeconds is the observed time outside downtime: what coverage counts.
func (u Usage) InServiceSeconds() float64 { return max(u.ObservedSeconds-u.ObservedDownSeconds, 0) }

// ObservedDownGPUHours is the observed time inside downtime windows.
func (u Usage) ObservedDownGPUHours() float64 { return u.ObservedDownSeconds / 3600 }

// UnobservedGPUHours is the expected time no telemetry covers.
func (u Usage) UnobservedGPUHours() float64 {
	return max(u.ExpectedSeconds-u.InServiceSeconds(), 0) / 3600
}

// Unnamed is the number of GPUs of the block not identified yet.
func (u Usage) Unnamed() int { return max(u.Allocated-u.GPUs, 0) }

// ExpectedUnnamedSeconds is the expected time of the GPUs not identified yet.
func (u Usage) ExpectedUnnamedSeconds() float64 { return u.ExpectedSeconds - u.ExpectedNamedSeconds }

// Coverage is observed ÷ expected GPU-seconds of the whole block (0 when
// nothing is expected yet), telemetry inside downtime left out as expected
// time leaves the downtime out.
func (u Usage) Coverage() float64 {
	if u.ExpectedSeconds <= 0 {
		return 0
	}
	return u.InServiceSeconds() / u.ExpectedSeconds
}

// NamedCoverage is observed ÷ expected GPU-seconds of the identified GPUs,
// telemetry inside downtime left out.
func (u Usage) NamedCoverage() float64 {
	if u.ExpectedNamedSeconds <= 0 {
		return 0
	}
	return u.InServiceSeconds() / u.ExpectedNamedSeconds
}

// BusyGPUHours is the observed time the GPUs were busy, in GPU-hours.
func (u Usage) BusyGPUHours() float64 { return u.ActiveSeconds / 3600 }

// ObservedGPUHours is the observed time, in GPU-hours.
func (u Usage) ObservedGPUHours() float64 { return u.ObservedSeconds / 3600 }

// MeanUtil is the time-weighted mean utilisation over the observed time, in percent.
func (u Usage) MeanUtil() float64 {
	if u.ObservedSeconds == 0 {
		return 0
	}
	return u.UtilSum / u.ObservedSeconds
}

// EnergyKWh is the energy used, in kWh.
func (u Usage) EnergyKWh() float64 { return u.EnergyJ / 3.6e6 }

// clip returns the hour-aligned part of [from, to) inside the allocation's period.
func (a *Allocation) clip(from, to time.Time) (time.Time, time.Time) {
	start, end := a.Span()
	if from.After(start) {
		start = from.UTC().Truncate(time.Hour)
	}
	if to.Before(end) {
		end = to.UTC().Truncate(time.Hour)
	}
	if end.Before(start) {
		end = start
	}
	return start, end
}

// wholeDays splits [start, end) into the KST days it covers whole, [d0, d1),
// and the hours before and after them. ok is false when it covers no whole day.
func wholeDays(start, end time.Time) (d0, d1 Date, ok bool) {
	d0 = DateOf(start)
	if !d0.Start().Equal(start) {
		d0 = d0.AddDays(1)
	}
	d1 = DateOf(end)
	return d0, d1, d0.Before(d1)
}

// allocationGPUs is the subquery of the UUIDs of an allocation's GPUs that
// belong to it for its whole period (neither added later nor replaced).
func allocationGPUs(db *gorm.DB, allocID uint) *gorm.DB {
	return db.Table("allocation_gpus").Select("gpu_uuid").
		Where("allocation_id = ? AND joined_at IS NULL AND left_at IS NULL", allocID)
}

// windowedRows selects the hourly rollups of an allocation's GPUs that
// belong to it only part of its period (added later, or replaced), in the
// hours they belonged, read whole: from the first hour starting at or after
// the join to the hour of the leave, included. Joins and leaves off the hour
// are prorated afterwards (see partialHours).
func windowedRows(db *gorm.DB, allocID uint, cols string, from, to time.Time) *gorm.DB {
	return db.Table("gpu_rollups").Select(cols).
		Joins("JOIN allocation_gpus ag ON ag.gpu_uuid = gpu_rollups.uuid AND ag.allocation_id = ?", allocID).
		Where("(ag.joined_at IS NOT NULL OR ag.left_at IS NOT NULL) AND gpu_rollups.hour >= ? AND gpu_rollups.hour < ?", from, to).
		Where("(ag.joined_at IS NULL OR gpu_rollups.hour >= ag.joined_at) AND (ag.left_at IS NULL OR gpu_rollups.hour < ag.left_at)")
}

// hasWindows reports whether any of an allocation's GPUs belongs to it only
// part of its period.
func hasWindows(gpus []AllocationGPU) bool {
	return slices.ContainsFunc(gpus, func(g AllocationGPU) bool { return !g.Whole() })
}

// physicalRow selects the rows of physical GPUs, not of MIG instances.
const physicalRow = "device_key = uuid"

// rollupSums are the sums of a set of rollup rows: of physical GPUs, the
// MIG instances only counted.
type rollupSums struct {
	AllocID   uint    `gorm:"column:alloc_id"` // when summed by allocation
	Observed  float64 `gorm:"column:observed"`
	Active    float64 `gorm:"column:active"`
	Util      float64 `gorm:"column:util"`
	GR        float64 `gorm:"column:gr"`
	SM        float64 `gorm:"column:sm"`
	Energy    float64 `gorm:"column:energy"`
	MaxFB     float64 `gorm:"column:max_fb"`
	XIDs      int64   `gorm:"column:xids"`
	Anomalies int64   `gorm:"column:anomalies"`
	Samples   int64   `gorm:"column:samples"`
	Devices   int64   `gorm:"column:devices"`
	Instances int64   `gorm:"column:instances"`
	BusyMin   float64 `gorm:"column:busy_min"`
	BusyMax   float64 `gorm:"column:busy_max"`
}

// rollupSumsSQL sums the physical GPUs' rows of a union of rollup parts.
var rollupSumsSQL = func() string {
	var b strings.Builder
	for i, c := range [][2]string{{"observed_s", "observed"}, {"active_s", "active"}, {"util_sum", "util"},
		{"gr_sum", "gr"}, {"sm_sum", "sm"}, {"energy_j", "energy"}, {"xid_count", "xids"},
		{"energy_anomalies", "anomalies"}, {"samples", "samples"}} {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "COALESCE(SUM(CASE WHEN %s THEN %s END), 0) AS %s", physicalRow, c[0], c[1])
	}
	fmt.Fprintf(&b, ", COALESCE(MAX(CASE WHEN %s THEN max_fb_mib END), 0) AS max_fb", physicalRow)
	fmt.Fprintf(&b, ", COUNT(DISTINCT CASE WHEN %s THEN device_key END) AS devices", physicalRow)
	fmt.Fprintf(&b, ", COUNT(DISTINCT CASE WHEN NOT (%s) THEN device_key END) AS instances", physicalRow)
	fmt.Fprintf(&b, ", COALESCE(MIN(CASE WHEN %s THEN busy_min END), 0) AS busy_min", physicalRow)
	fmt.Fprintf(&b, ", COALESCE(MAX(CASE WHEN %s THEN busy_max END), 0) AS busy_max", physicalRow)
	return b.String()
}()

func (u *Usage) add(s rollupSums) {
	u.ObservedSeconds += s.Observed
	u.ActiveSeconds += s.Active
	u.UtilSum += s.Util
	u.GRSum += s.GR
	u.SMSum += s.SM
	u.EnergyJ += s.Energy
	u.MaxFBMiB = max(u.MaxFBMiB, s.MaxFB)
	u.XIDCount += int(s.XIDs)
	u.EnergyAnomalies += int(s.Anomalies)
	u.Samples += int(s.Samples)
	u.Devices += int(s.Devices)
	u.Instances += int(s.Instances)
	if s.Devices > 0 {
		u.BusyThresholdMin, u.BusyThresholdMax = s.BusyMin, s.BusyMax
	}
}

// rollupCols are the columns a usage query reads from either rollup table.
const rollupCols = "device_key, uuid, profile, observed_s, active_s, util_sum, gr_sum, sm_sum, energy_j, max_fb_mib, " +
	"xid_count, energy_anomalies, samples"

// The busy thresholds of the rows, as busy_min and busy_max, from the hourly
// and from the daily table.
const (
	hourBusyCols = ", busy_threshold_pct AS busy_min, busy_threshold_pct AS busy_max"
	dayBusyCols  = ", busy_threshold_min AS busy_min, busy_threshold_pct AS busy_max"
)

// usageUnion is one statement over an allocation's rollups in [start, end):
// the whole KST days from the daily rollups, the hours before and after
// them from the hourly ones. It returns the SQL of the union and its
// arguments; nil when the range is empty.
func usageUnion(db *gorm.DB, allocID uint, start, end time.Time, windowed bool) (string, []any) {
	return usageUnionOf(db, allocID, "", start, end, windowed)
}

// usageUnionOf is usageUnion over one of the allocation's GPUs, or all of
// them when uuid is "". windowed adds the GPUs that belong to the
// allocation only part of its period, in the hours they belonged.
func usageUnionOf(db *gorm.DB, allocID uint, uuid string, start, end time.Time, windowed bool) (string, []any) {
	gpus := func() *gorm.DB {
		q := allocationGPUs(db, allocID)
		if uuid != "" {
			q = q.Where("gpu_uuid = ?", uuid)
		}
		return q
	}
	if !end.After(start) {
		return "", nil
	}
	var parts []*gorm.DB
	if windowed {
		// GPUs that belong only part of the period: from the hourly rows, in
		// the hours they belonged.
		var cols []string
		for _, c := range strings.Split(rollupCols, ", ") {
			cols = append(cols, "gpu_rollups."+c)
		}
		w := windowedRows(db, allocID, strings.Join(cols, ", ")+", gpu_rollups.busy_threshold_pct AS busy_min, gpu_rollups.busy_threshold_pct AS busy_max", start, end)
		if uuid != "" {
			w = w.Where("ag.gpu_uuid = ?", uuid)
		}
		parts = append(parts, w)
	}
	hours := func(from, to time.Time) {
		if to.After(from) {
			parts = append(parts, db.Table("gpu_rollups").Select(rollupCols+hourBusyCols).
				Where("uuid IN (?) AND hour >= ? AND hour < ?", gpus(), from, to))
		}
	}
	if d0, d1, ok := wholeDays(start, end); ok {
		hours(start, d0.Start().UTC())
		parts = append(parts, db.Table("gpu_rollup_days").Select(rollupCols+dayBusyCols).
			Where("uuid IN (?) AND day >= ? AND day < ?", gpus(), d0.String(), d1.String()))
		hours(d1.Start().UTC(), end)
	} else {
		hours(start, end)
	}
	args := make([]any, len(parts))
	for i, p := range parts {
		args[i] = p
	}
	return strings.TrimSuffix(strings.Repeat("? UNION ALL ", len(parts)), " UNION ALL "), args
}

// AllocationUsage totals the telemetry of an allocation's GPUs from from to
// to (to exclusive, both taken to the hour), clipped to the allocation's
// period: the GPU-hours a usage report is checked against. Expected time is
// the block's size × the time from the range's start to its end or to now,
// whichever comes first. Whole KST days are read from the daily rollups,
// the hours before and after them from the hourly ones.
func AllocationUsage(ctx context.Context, db *gorm.DB, allocID uint, from, to, now time.Time) (Usage, error) {
	return AllocationGPUSummary(ctx, db, allocID, "", from, to, now)
}

// AllocationGPUSummary is AllocationUsage of one of the allocation's GPUs
// (uuid; "" is all of them): its expected time is that one GPU's.
func AllocationGPUSummary(ctx context.Context, db *gorm.DB, allocID uint, uuid string, from, to, now time.Time) (Usage, error) {
	db = db.WithContext(ctx)
	var a Allocation
	if err := db.First(&a, allocID).Error; err != nil {
		return Usage{}, notFound(fmt.Sprintf("store: usage of allocation %d", allocID), err)
	}
	var members []AllocationGPU
	q := db.Select("allocation_id", "gpu_uuid", "joined_at", "left_at").Where("allocation_id = ?", allocID)
	if uuid != "" {
		q = q.Where("gpu_uuid = ?", uuid)
	}
	if err := q.Find(&members).Error; err != nil {
		return Usage{}, fmt.Errorf("store: usage of allocation %d: %w", allocID, err)
	}
	f, err := usageFrame(&a, members, uuid, from, to, now, func(from, to time.Time) ([]Downtime, error) {
		return downtimesOf(ctx, db, a.ClusterID, from, to)
	}, func(downs []Downtime) (map[string]string, error) {
		return memberNodes(db, downs, members)
	})
	if err != nil {
		return Usage{}, fmt.Errorf("store: usage of allocation %d: %w", allocID, err)
	}
	u := f.u
	union, args := usageUnionOf(db, allocID, uuid, u.From, f.readTo, hasWindows(members))
	if union == "" {
		return u, nil
	}
	// One statement over the parts: one round trip, and the devices counted across them.
	var s rollupSums
	if err := db.Raw("SELECT "+rollupSumsSQL+" FROM ("+union+") parts", args...).Scan(&s).Error; err != nil {
		return Usage{}, fmt.Errorf("store: usage of allocation %d: %w", allocID, err)
	}
	u.add(s)
	// Hours a GPU belonged to only in part (a join or leave off the hour) count their share.
	partial, err := partialRows(db, partialHours(members, u.From, f.readTo))
	if err != nil {
		return Usage{}, fmt.Errorf("store: usage of allocation %d: %w", allocID, err)
	}
	u.prorate(partial)
	if len(f.downs) > 0 && u.ObservedSeconds > 0 {
		rows, err := downRows(db, []uint{allocID}, uuid, f.downs, u.From, f.readTo)
		if err != nil {
			return Usage{}, fmt.Errorf("store: usage of allocation %d: %w", allocID, err)
		}
		u.ObservedDownSeconds = observedDown(rows, f.downs, members, f.nodes)
	}
	return u, nil
}

// frame is an allocation's usage over a range before its telemetry is
// read: the range clipped to the period, the GPUs, the expected and down
// time; the instant up to which telemetry is read, the cluster's downtimes
// and the members' nodes (when a window of some nodes needs them).
type frame struct {
	u      Usage
	readTo time.Time
	downs  []Downtime
	nodes  map[string]string
}

// usageFrame is the frame of an allocation's usage from from to to: downs
// gives the cluster's downtimes in a range, nodes the members' nodes for
// those downtimes.
func usageFrame(a *Allocation, members []AllocationGPU, uuid string, from, to, now time.Time,
	downs func(from, to time.Time) ([]Downtime, error), nodesOf func([]Downtime) (map[string]string, error)) (frame, error) {
	n := 0
	for _, g := range members {
		if g.LeftAt == nil {
			n++
		}
	}
	u := Usage{GPUs: n, Allocated: max(a.GPUCount, n)}
	if uuid != "" {
		u.Allocated = n
	}
	u.From, u.To = a.clip(from, to)
	u.Until = u.To
	if now = now.UTC(); now.Before(u.Until) {
		u.Until = now
		if now.Before(u.From) {
			u.Until = u.From
		}
	}
	ds, err := downs(u.From, u.Until)
	if err != nil {
		return frame{}, err
	}
	whole := wholeCluster(ds)
	down := coveredSeconds(whole, u.From, u.Until)
	// The cluster's downtime is no GPU's expected time: it is down.
	span := u.Until.Sub(u.From).Seconds() - down
	u.DownSeconds = float64(u.Allocated) * down
	u.ExpectedSeconds = float64(u.Allocated) * span
	nodes, err := nodesOf(ds)
	if err != nil {
		return frame{}, err
	}
	// Each identified GPU is expected while it belonged to the allocation
	// and neither its cluster nor it (its node) was down; the windows of
	// some nodes or GPUs take only those GPUs' time out of the block's.
	for _, g := range members {
		s, e := g.Window(u.From, u.Until)
		if !e.After(s) {
			continue
		}
		mine := coveredSeconds(downtimesFor(ds, g.GPUUUID, nodes[g.GPUUUID]), s, e)
		u.ExpectedNamedSeconds += e.Sub(s).Seconds() - mine
		// (A GPU's own summary after it left counts no block time: nothing to take out.)
		if extra := mine - coveredSeconds(slices.Clone(whole), s, e); extra > 0 && u.Allocated > 0 {
			u.ExpectedSeconds -= extra
			u.DownSeconds += extra
		}
	}
	// Nothing after the hour now is in can have been observed yet.
	readTo := u.Until.Truncate(time.Hour)
	if readTo.Before(u.Until) {
		readTo = readTo.Add(time.Hour)
	}
	if readTo.After(u.To) {
		readTo = u.To
	}
	return frame{u: u, readTo: readTo, downs: ds, nodes: nodes}, nil
}

// usageBatch is how many allocations one statement of allocationsUsage
// sums (SQLite allows 500 terms in a UNION).
const usageBatch = 200

// allocationsUsage is AllocationUsage of each allocation, in their order,
// in a constant number of statements: their GPUs, their clusters'
// downtimes, the nodes of their GPUs when a window of some nodes needs
// them, the sums of their rollups grouped by allocation (one statement for
// up to usageBatch allocations), the hours their GPUs belonged to only in
// part, and the hours of telemetry inside their downtimes.
func allocationsUsage(ctx context.Context, db *gorm.DB, as []Allocation, from, to, now time.Time) ([]Usage, error) {
	db = db.WithContext(ctx)
	out := make([]Usage, len(as))
	if len(as) == 0 {
		return out, nil
	}
	ids := make([]uint, len(as))
	var clusters []uint
	for i, a := range as {
		ids[i] = a.ID
		if !slices.Contains(clusters, a.ClusterID) {
			clusters = append(clusters, a.ClusterID)
		}
	}
	members := map[uint][]AllocationGPU{}
	var all []AllocationGPU
	for chunk := range slices.Chunk(ids, 1000) {
		var ms []AllocationGPU
		if err := db.Select("allocation_id", "gpu_uuid", "joined_at", "left_at").Where("allocation_id IN ?", chunk).
			Find(&ms).Error; err != nil {
			return nil, fmt.Errorf("store: usage of %d allocations: %w", len(as), err)
		}
		for _, m := range ms {
			members[m.AllocationID] = append(members[m.AllocationID], m)
		}
		all = append(all, ms...)
	}
	var downs []Downtime
	if err := db.Where("cluster_id IN ? AND start_at < ? AND end_at > ?", clusters, to.UTC(), from.UTC()).
		Find(&downs).Error; err != nil {
		return nil, fmt.Errorf("store: downtime of %d clusters: %w", len(clusters), err)
	}
	nodes, err := memberNodes(db, downs, all)
	if err != nil {
		return nil, fmt.Errorf("store: usage of %d allocations: %w", len(as), err)
	}
	frames := make([]frame, len(as))
	index := map[uint]int{}
	for start := 0; start < len(as); start += usageBatch {
		var parts []string
		var args []any
		for i := start; i < min(start+usageBatch, len(as)); i++ {
			a := &as[i]
			index[a.ID] = i
			f, err := usageFrame(a, members[a.ID], "", from, to, now, func(time.Time, time.Time) ([]Downtime, error) {
				return slices.DeleteFunc(slices.Clone(downs), func(d Downtime) bool { return d.ClusterID != a.ClusterID }), nil
			}, func([]Downtime) (map[string]string, error) { return nodes, nil })
			if err != nil {
				return nil, err
			}
			frames[i] = f
			out[i] = f.u
			union, uargs := usageUnionOf(db, a.ID, "", f.u.From, f.readTo, hasWindows(members[a.ID]))
			if union == "" {
				continue
			}
			parts = append(parts, fmt.Sprintf("SELECT %d AS alloc_id, p.* FROM (%s) p", a.ID, union))
			args = append(args, uargs...)
		}
		if len(parts) == 0 {
			continue
		}
		var sums []rollupSums
		if err := db.Raw("SELECT alloc_id, "+rollupSumsSQL+" FROM ("+strings.Join(parts, " UNION ALL ")+") parts GROUP BY alloc_id",
			args...).Scan(&sums).Error; err != nil {
			return nil, fmt.Errorf("store: usage of %d allocations: %w", len(as), err)
		}
		for _, s := range sums {
			out[index[s.AllocID]].add(s)
		}
	}
	// Hours a GPU belonged to only in part count their share.
	phs := make([][]partialHour, len(as))
	for i, a := range as {
		phs[i] = partialHours(members[a.ID], frames[i].u.From, frames[i].readTo)
	}
	partial, err := partialRowsOf(db, phs)
	if err != nil {
		return nil, fmt.Errorf("store: usage of %d allocations: %w", len(as), err)
	}
	var downIDs []uint
	var from0, to0 time.Time
	for i := range as {
		out[i].prorate(partial[i])
		if f := frames[i]; len(f.downs) > 0 && out[i].ObservedSeconds > 0 {
			downIDs = append(downIDs, as[i].ID)
			if from0.IsZero() || f.u.From.Before(from0) {
				from0 = f.u.From
			}
			if f.readTo.After(to0) {
				to0 = f.readTo
			}
		}
	}
	if len(downIDs) == 0 {
		return out, nil
	}
	// Telemetry inside downtime: one read of the hours the windows touch.
	rows, err := downRows(db, downIDs, "", downs, from0, to0)
	if err != nil {
		return nil, fmt.Errorf("store: usage of %d allocations: %w", len(as), err)
	}
	for _, id := range downIDs {
		i := index[id]
		f := frames[i]
		var mine []downRow
		for _, r := range rows {
			h := r.Hour.UTC()
			if r.AllocID == id && !h.Before(f.u.From) && h.Before(f.readTo) {
				mine = append(mine, r)
			}
		}
		out[i].ObservedDownSeconds = observedDown(mine, f.downs, members[id], nodes)
	}
	return out, nil
}

// memberNodes maps the members' UUIDs to their nodes, when a window of some
// nodes is among downs (nil otherwise: no other window needs them).
func memberNodes(db *gorm.DB, downs []Downtime, members []AllocationGPU) (map[string]string, error) {
	if !slices.ContainsFunc(downs, func(d Downtime) bool { return d.Scope == ScopeNodes }) || len(members) == 0 {
		return nil, nil
	}
	var uuids []string
	for _, g := range members {
		if !slices.Contains(uuids, g.GPUUUID) {
			uuids = append(uuids, g.GPUUUID)
		}
	}
	out := make(map[string]string, len(uuids))
	for chunk := range slices.Chunk(uuids, 1000) {
		var gs []GPU
		if err := db.Select("uuid", "node").Where("uuid IN ?", chunk).Find(&gs).Error; err != nil {
			return nil, err
		}
		for _, g := range gs {
			out[g.UUID] = g.Node
		}
	}
	return out, nil
}

// downRow is a physical GPU's observed time in an hour that a downtime
// window touches, with the allocation it was read for.
type downRow struct {
	AllocID  uint      `gorm:"column:alloc_id"`
	UUID     string    `gorm:"column:uuid"`
	Hour     time.Time `gorm:"column:hour"`
	Observed float64   `gorm:"column:observed_s"`
}

// downRows reads, in one statement, the hourly observed time in [from, to)
// of the GPUs of the allocations (of uuid alone, when set) in the hours
// that the windows downs touch.
func downRows(db *gorm.DB, allocIDs []uint, uuid string, downs []Downtime, from, to time.Time) ([]downRow, error) {
	hours := db.Where("1 = 0")
	for _, d := range downs {
		hours = hours.Or("r.hour >= ? AND r.hour < ?", d.Start.Truncate(time.Hour), d.End)
	}
	q := db.Table("gpu_rollups r").Select("ag.allocation_id AS alloc_id, r.uuid, r.hour, r.observed_s").
		Joins("JOIN (SELECT DISTINCT allocation_id, gpu_uuid FROM allocation_gpus WHERE allocation_id IN ?) ag ON ag.gpu_uuid = r.uuid", allocIDs).
		Where("r.device_key = r.uuid AND r.hour >= ? AND r.hour < ?", from, to).
		Where(hours)
	if uuid != "" {
		q = q.Where("r.uuid = ?", uuid)
	}
	var rows []downRow
	if err := q.Scan(&rows).Error; err != nil {
		return nil, err
	}
	return rows, nil
}

// observedDown is the telemetry of rows (one allocation's) that falls
// inside the members' downtime windows: each physical GPU's hourly observed
// time × the share of the hour the GPU was down while it belonged to the
// allocation.
func observedDown(rows []downRow, downs []Downtime, members []AllocationGPU, nodes map[string]string) float64 {
	byUUID := map[string][]AllocationGPU{}
	for _, g := range members {
		byUUID[g.GPUUUID] = append(byUUID[g.GPUUUID], g)
	}
	total := 0.0
	for _, r := range rows {
		h := r.Hour.UTC()
		mine := downtimesFor(downs, r.UUID, nodes[r.UUID])
		for _, g := range byUUID[r.UUID] {
			s, e := g.Window(h, h.Add(time.Hour))
			if e.After(s) {
				total += r.Observed * coveredSeconds(mine, s, e) / 3600
			}
		}
	}
	return total
}

// DeviceUsage is what one device, a physical GPU or one MIG instance, did
// over a range.
type DeviceUsage struct {
	Key, MIG, Profile string
	ObservedSeconds   float64
	ActiveSeconds     float64
	UtilSum           float64
	EnergyJ           float64
	XIDCount          int
	EnergyAnomalies   int
}

// MeanUtil is the time-weighted mean utilisation over the observed time, in percent.
func (d DeviceUsage) MeanUtil() float64 {
	if d.ObservedSeconds == 0 {
		return 0
	}
	return d.UtilSum / d.ObservedSeconds
}

// GPUUsage is one physical GPU's usage over a range, with its MIG
// instances' as a breakdown of it (their time is part of the GPU's).
type GPUUsage struct {
	DeviceUsage
	Instances []DeviceUsage // by instance key
}

// AllocationGPUUsage is AllocationUsage per GPU: each of the allocation's
// GPUs with telemetry in [from, to) (clipped to the period), by UUID.
func AllocationGPUUsage(ctx context.Context, db *gorm.DB, a *Allocation, from, to time.Time) (map[string]GPUUsage, error) {
	db = db.WithContext(ctx)
	start, end := a.clip(from, to)
	out := map[string]GPUUsage{}
	union, args := usageUnion(db, a.ID, start, end, hasWindows(a.GPUs))
	if union == "" {
		return out, nil
	}
	var rows []struct {
		DeviceKey string  `gorm:"column:device_key"`
		UUID      string  `gorm:"column:uuid"`
		Profile   string  `gorm:"column:profile"`
		Observed  float64 `gorm:"column:observed"`
		Active    float64 `gorm:"column:active"`
		Util      float64 `gorm:"column:util"`
		Energy    float64 `gorm:"column:energy"`
		XIDs      int64   `gorm:"column:xids"`
		Anomalies int64   `gorm:"column:anomalies"`
	}
	err := db.Raw(`SELECT device_key, MAX(uuid) AS uuid, MAX(profile) AS profile, SUM(observed_s) AS observed,
		SUM(active_s) AS active, SUM(util_sum) AS util, SUM(energy_j) AS energy, SUM(xid_count) AS xids,
		SUM(energy_anomalies) AS anomalies FROM (`+union+`) parts GROUP BY device_key ORDER BY device_key`, args...).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: GPU usage of allocation %d: %w", a.ID, err)
	}
	for _, r := range rows {
		d := DeviceUsage{Key: r.DeviceKey, Profile: r.Profile, ObservedSeconds: r.Observed, ActiveSeconds: r.Active,
			UtilSum: r.Util, EnergyJ: r.Energy, XIDCount: int(r.XIDs), EnergyAnomalies: int(r.Anomalies)}
		g := out[r.UUID]
		if r.DeviceKey == r.UUID {
			g.DeviceUsage = d
		} else {
			d.MIG = strings.TrimPrefix(r.DeviceKey, r.UUID+"/")
			g.Instances = append(g.Instances, d)
		}
		out[r.UUID] = g
	}
	// Hours a GPU belonged to only in part count their share.
	partial, err := partialRows(db, partialHours(a.GPUs, start, end))
	if err != nil {
		return nil, fmt.Errorf("store: GPU usage of allocation %d: %w", a.ID, err)
	}
	for _, r := range partial {
		g := out[r.UUID]
		if r.DeviceKey == r.UUID {
			g.Key = r.UUID
			g.DeviceUsage.prorate(r)
		} else {
			i := slices.IndexFunc(g.Instances, func(d DeviceUsage) bool { return d.Key == r.DeviceKey })
			if i < 0 {
				g.Instances = append(g.Instances, DeviceUsage{Key: r.DeviceKey, MIG: strings.TrimPrefix(r.DeviceKey, r.UUID+"/"), Profile: r.Profile})
				i = len(g.Instances) - 1
			}
			g.Instances[i].prorate(r)
		}
		out[r.UUID] = g
	}
	return out, nil
}

// SeriesPoint is one step (an hour or a KST day) of an allocation's chart:
// nil values where nothing was observed.
type SeriesPoint struct {
	At        time.Time // start of the step
	Util      *float64  // mean utilisation over the observed GPU-seconds, %
	Power     *float64  // mean power while observed, summed over the GPUs, W
	MemoryMiB *float64  // largest framebuffer used by any of the GPUs, MiB
	GPUs      float64   // observed GPU-seconds ÷ the step's seconds: how many GPUs' worth of telemetry it has
}

// Chart resolution: hourly up to HourlySeriesMax, daily beyond, at most
// MaxSeriesDays.
const (
	HourlySeriesMax = 7 * 24 * time.Hour
	MaxSeriesDays   = 3 * 366
)

// AllocationSeries returns the chart of an allocation's GPUs, or of the one
// GPU named by uuid (which must be in the allocation; "" means all), over
// [from, to) clipped to the allocation's period: one point per hour for a
// week or less, one per KST day beyond. Steps without telemetry are points
// with nil values: gaps stay gaps on the chart. step is the resolution.
func AllocationSeries(ctx context.Context, db *gorm.DB, a *Allocation, from, to time.Time, uuid string) (pts []SeriesPoint, step time.Duration, err error) {
	db = db.WithContext(ctx)
	if uuid != "" && !a.Has(uuid) {
		return nil, 0, fmt.Errorf("store: series of allocation %d: GPU %s: %w", a.ID, uuid, ErrNotFound)
	}
	start, end := a.clip(from, to)
	var rows []struct {
		At       string // hour (as the driver gives it) or day
		Hour     time.Time
		Observed float64
		Util     float64
		Power    float64
		MaxFB    float64
	}
	const sums = `SUM(observed_s) AS observed, SUM(util_sum) AS util,
		SUM(CASE WHEN observed_s > 0 THEN energy_j / observed_s ELSE 0 END) AS power, MAX(max_fb_mib) AS max_fb`
	var q *gorm.DB
	if end.Sub(start) <= HourlySeriesMax {
		step = time.Hour
		q = db.Table("gpu_rollups").Select("hour, "+sums).
			Where("uuid IN (?) AND "+physicalRow+" AND hour >= ? AND hour < ?", allocationGPUs(db, a.ID), start, end).
			Group("hour").Order("hour")
	} else {
		step = 24 * time.Hour
		d0, d1 := DateOf(start), DateOf(end)
		if !d1.Start().Equal(end) {
			d1 = d1.AddDays(1)
		}
		if d1.After(d0.AddDays(MaxSeriesDays)) {
			d0 = d1.AddDays(-MaxSeriesDays)
		}
		start, end = d0.Start().UTC(), d1.Start().UTC()
		q = db.Table("gpu_rollup_days").Select("day AS at, "+sums).
			Where("uuid IN (?) AND "+physicalRow+" AND day >= ? AND day < ?", allocationGPUs(db, a.ID), d0.String(), d1.String()).
			Group("day").Order("day")
	}
	if uuid != "" {
		q = q.Where("uuid = ?", uuid)
	}
	if err := q.Scan(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("store: series of allocation %d: %w", a.ID, err)
	}
	at := make(map[int64]int, len(rows))
	for i, r := range rows {
		t := r.Hour.UTC()
		if step != time.Hour {
			d, err := ParseDate(r.At)
			if err != nil {
				return nil, 0, fmt.Errorf("store: series of allocation %d: %w", a.ID, err)
			}
			t = d.Start().UTC()
		}
		rows[i].Hour = t
		at[t.Unix()] = i
	}
	if hasWindows(a.GPUs) {
		// GPUs that belong only part of the period: their hourly rows in the
		// hours they belonged, added into the steps.
		var more []struct {
			Hour     time.Time
			Observed float64
			Util     float64
			Power    float64
			MaxFB    float64
		}
		wq := windowedRows(db, a.ID, `gpu_rollups.hour AS hour, observed_s AS observed, util_sum AS util,
			CASE WHEN observed_s > 0 THEN energy_j / observed_s ELSE 0 END AS power, max_fb_mib AS max_fb`, start, end).
			Where("gpu_rollups." + physicalRow)
		if uuid != "" {
			wq = wq.Where("gpu_rollups.uuid = ?", uuid)
		}
		if err := wq.Scan(&more).Error; err != nil {
			return nil, 0, fmt.Errorf("store: series of allocation %d: %w", a.ID, err)
		}
		// Hours a GPU belonged to only in part count their share.
		partial, err := partialRows(db, partialHours(a.GPUs, start, end))
		if err != nil {
			return nil, 0, fmt.Errorf("store: series of allocation %d: %w", a.ID, err)
		}
		for _, r := range partial {
			if r.DeviceKey != r.UUID || uuid != "" && r.UUID != uuid || r.ObservedS <= 0 {
				continue
			}
			f, fb := r.Part.delta(), 0.0
			if r.Part.gained() {
				fb = r.MaxFBMiB
			}
			more = append(more, struct {
				Hour     time.Time
				Observed float64
				Util     float64
				Power    float64
				MaxFB    float64
			}{Hour: r.Hour, Observed: f * r.ObservedS, Util: f * r.UtilSum, Power: f * r.EnergyJ / r.ObservedS, MaxFB: fb})
		}
		for _, m := range more {
			t := m.Hour.UTC()
			if step != time.Hour {
				t = DateOf(t).Start().UTC()
			}
			i, ok := at[t.Unix()]
			if !ok {
				i = len(rows)
				rows = slices.Grow(rows, 1)[:i+1]
				clear(rows[i:])
				rows[i].Hour = t
				at[t.Unix()] = i
			}
			r := &rows[i]
			r.Observed += m.Observed
			r.Util += m.Util
			r.Power += m.Power
			r.MaxFB = max(r.MaxFB, m.MaxFB)
		}
	}
	for t := start; t.Before(end); t = t.Add(step) {
		p := SeriesPoint{At: t}
		if i, ok := at[t.Unix()]; ok && rows[i].Observed > 0 {
			r := rows[i]
			util, power, fb := r.Util/r.Observed, r.Power, r.MaxFB
			p.Util, p.Power, p.MemoryMiB, p.GPUs = &util, &power, &fb, r.Observed/step.Seconds()
		}
		pts = append(pts, p)
	}
	return pts, step, nil
}

// ClusterLease says which collector owns a cluster until when. The owner
// renews it well before it expires; another collector takes the cluster
// over only once it has expired.
type ClusterLease struct {
	ClusterID uint      `gorm:"primaryKey;autoIncrement:false"`
	Owner     string    `gorm:"size:200;not null"`
	ExpiresAt time.Time `gorm:"not null"`
}

// AcquireClusterLease takes or renews the lease of a cluster for owner until
// now+ttl. It reports false, changing nothing, while another owner's lease
// has not expired. One statement decides, so two collectors asking at once
// cannot both win, on SQLite or PostgreSQL.
func AcquireClusterLease(ctx context.Context, db *gorm.DB, clusterID uint, owner string, ttl time.Duration, now time.Time) (bool, error) {
	now = now.UTC().Truncate(time.Microsecond)
	res := db.WithContext(ctx).Exec(`INSERT INTO cluster_leases (cluster_id, owner, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (cluster_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
		WHERE cluster_leases.owner = excluded.owner OR cluster_leases.expires_at <= ?`,
		clusterID, owner, now.Add(ttl), now)
	if res.Error != nil {
		return false, fmt.Errorf("store: lease of cluster %d: %w", clusterID, res.Error)
	}
	return res.RowsAffected > 0, nil
}

// ReleaseClusterLease gives up owner's lease of a cluster, if it holds it.
func ReleaseClusterLease(ctx context.Context, db *gorm.DB, clusterID uint, owner string) error {
	err := db.WithContext(ctx).Where("cluster_id = ? AND owner = ?", clusterID, owner).Delete(&ClusterLease{}).Error
	if err != nil {
		return fmt.Errorf("store: release lease of cluster %d: %w", clusterID, err)
	}
	return nil
}

// TelemetryStore is the collector's store (dcgm.Store) on the portal
// database. Secrets opens the clusters' sealed bearer tokens; it may be nil
// when no cluster has one.
type TelemetryStore struct {
	DB      *gorm.DB
	Secrets *SecretBox
	// Owners, if set, remembers which GPUs are the clusters' (see
	// GPUOwners): the collector sets one for its lifetime.
	Owners *GPUOwners
}

var _ dcgm.Store = TelemetryStore{}

// ClusterConfig is the cluster as the collector needs it, with the token
// in the clear if BearerToken holds it (TelemetryStore opens it).
func (c *Cluster) ClusterConfig() dcgm.ClusterConfig {
	return dcgm.ClusterConfig{ID: c.ID, Name: c.Name, Kind: c.SourceKind, Endpoints: c.EndpointList(),
		Interval: c.PollInterval(), BearerToken: c.BearerToken, TLSSkipVerify: c.TLSSkipVerify, Seed: c.SimSeed,
		GPUModel: c.GPUModel, GPUCount: c.GPUCount}
}

// Clusters implements dcgm.Store.
func (s TelemetryStore) Clusters(ctx context.Context) ([]dcgm.ClusterConfig, error) {
	cs, err := ListClusters(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	out := make([]dcgm.ClusterConfig, len(cs))
	for i := range cs {
		if cs[i].BearerToken, err = s.Secrets.Open(cs[i].SealedToken); err != nil {
			return nil, fmt.Errorf("store: bearer token of cluster %q (id %d): %w", cs[i].Name, cs[i].ID, err)
		}
		out[i] = cs[i].ClusterConfig()
	}
	return out, nil
}

// AcquireLease implements dcgm.Store.
func (s TelemetryStore) AcquireLease(ctx context.Context, clusterID uint, owner string, ttl time.Duration, now time.Time) (bool, error) {
	return AcquireClusterLease(ctx, s.DB, clusterID, owner, ttl, now)
}

// ReleaseLease implements dcgm.Store.
func (s TelemetryStore) ReleaseLease(ctx context.Context, clusterID uint, owner string) error {
	return ReleaseClusterLease(ctx, s.DB, clusterID, owner)
}

// StoredRollups implements dcgm.Store.
func (s TelemetryStore) StoredRollups(ctx context.Context, clusterID uint, since time.Time) ([]dcgm.Rollup, error) {
	rows, err := ClusterRollupsSince(ctx, s.DB, clusterID, since)
	if err != nil {
		return nil, err
	}
	work, err := clusterWorkloadsSince(s.DB.WithContext(ctx), clusterID, since)
	if err != nil {
		return nil, err
	}
	out := make([]dcgm.Rollup, len(rows))
	for i, r := range rows {
		out[i] = dcgm.Rollup{Key: r.DeviceKey, UUID: r.UUID, Profile: r.Profile, Hour: r.Hour.UTC(), Node: r.Node, Model: r.Model,
			ObservedSeconds: r.ObservedS, ActiveSeconds: r.ActiveS, UtilSum: r.UtilSum, GRActiveSum: r.GRSum,
			SMActiveSum: r.SMSum, EnergyJ: r.EnergyJ, MaxFBMiB: r.MaxFBMiB, XIDCount: r.XIDCount, Samples: r.Samples,
			EnergyAnomalies: r.EnergyAnomalies, BusyThresholdPct: r.BusyThresholdPct}
		if r.DeviceKey != r.UUID {
			out[i].MIG = strings.TrimPrefix(r.DeviceKey, r.UUID+"/")
		}
		if r.LastXID != nil {
			out[i].LastXID, out[i].XIDSeen = float64(*r.LastXID), true
		}
		if r.DeviceKey == r.UUID {
			out[i].Workloads = work[r.UUID+"|"+r.Hour.UTC().Format(time.RFC3339)]
		}
	}
	return out, nil
}

// UpsertRollups implements dcgm.Store: the rollups of GPUs registered to
// another cluster are refused (see StoreClusterRollups).
func (s TelemetryStore) UpsertRollups(ctx context.Context, clusterID uint, rs []dcgm.Rollup, now time.Time) error {
	_, err := storeClusterRollups(ctx, s.DB, s.Owners, clusterID, rollupRows(clusterID, rs), now)
	return err
}

func rollupRows(clusterID uint, rs []dcgm.Rollup) []GPURollup {
	rows := make([]GPURollup, len(rs))
	for i, r := range rs {
		rows[i] = GPURollup{DeviceKey: r.Key, Hour: r.Hour, UUID: r.UUID, ClusterID: clusterID, Node: r.Node, Model: r.Model,
			ObservedS: r.ObservedSeconds, ActiveS: r.ActiveSeconds, UtilSum: r.UtilSum, GRSum: r.GRActiveSum,
			SMSum: r.SMActiveSum, EnergyJ: r.EnergyJ, MaxFBMiB: r.MaxFBMiB, XIDCount: r.XIDCount, Samples: r.Samples,
			Profile: r.Profile, EnergyAnomalies: r.EnergyAnomalies, BusyThresholdPct: r.BusyThresholdPct, Workloads: r.Workloads}
		if r.XIDSeen {
			x := int(r.LastXID)
			rows[i].LastXID = &x
		}
	}
	return rows
}

// RecordStatus implements dcgm.Store.
func (s TelemetryStore) RecordStatus(ctx context.Context, clusterID uint, st dcgm.Status) error {
	return RecordClusterStatus(ctx, s.DB, clusterID, ClusterStatus{At: st.At, OK: st.OK, Err: st.Err, GPUsSeen: st.GPUsSeen})
}

// RecordGPUs implements dcgm.Store.
func (s TelemetryStore) RecordGPUs(ctx context.Context, clusterID uint, gpus []dcgm.GPUInfo, at time.Time) error {
	seen := make([]SeenGPU, len(gpus))
	for i, g := range gpus {
		seen[i] = SeenGPU{UUID: g.UUID, Node: g.Node, Model: g.Model, Index: g.Index}
	}
	s.Owners.loadSeen(ctx, s.DB, clusterID)
	seen = s.Owners.unchanged(clusterID, seen, at)
	if err := RecordGPUs(ctx, s.DB, clusterID, seen, at); err != nil {
		return err
	}
	s.Owners.recorded(seen, at)
	return nil
}
