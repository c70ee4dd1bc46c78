package models

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// PostgreSQL's write of a batch of rollups: the rows travel as one array
// per column, each statement unnests them, and a few statements do what
// gorm's batched inserts and the daily rows read into Go and written back
// did in about forty: one moves the daily rows by new − stored of each hour
// (moveDays' rule) and replaces the hours, one replaces the workloads, and
// the few day rows that cannot move are summed again. The measures
// are sent as decimal text and cast to numeric, the columns' type, so the
// moved sums are the fresh sums exactly.

// rollupArrays are the rows' columns, as unnestRollups reads them.
type rollupArrays struct {
	keys, days, uuids, nodes, models, profiles []string
	hours                                      []time.Time
	clusters, xids, samples, anomalies         []int64
	lastXIDs                                   []*int64
	// observed, active, util, gr, sm, energy, max FB, busy threshold
	measures [8][]string
}

func newRollupArrays(rows []GPURollup) *rollupArrays {
	n := len(rows)
	a := &rollupArrays{keys: make([]string, n), days: make([]string, n), uuids: make([]string, n), nodes: make([]string, n),
		models: make([]string, n), profiles: make([]string, n), hours: make([]time.Time, n), clusters: make([]int64, n),
		xids: make([]int64, n), samples: make([]int64, n), anomalies: make([]int64, n), lastXIDs: make([]*int64, n)}
	for i := range a.measures {
		a.measures[i] = make([]string, n)
	}
	for i, r := range rows {
		a.keys[i], a.days[i], a.uuids[i], a.nodes[i] = r.DeviceKey, DateOf(r.Hour).String(), r.UUID, r.Node
		a.models[i], a.profiles[i], a.hours[i], a.clusters[i] = r.Model, r.Profile, r.Hour.UTC(), int64(r.ClusterID)
		a.xids[i], a.samples[i], a.anomalies[i] = int64(r.XIDCount), int64(r.Samples), int64(r.EnergyAnomalies)
		if r.LastXID != nil {
			x := int64(*r.LastXID)
			a.lastXIDs[i] = &x
		}
		for j, v := range []float64{r.ObservedS, r.ActiveS, r.UtilSum, r.GRSum, r.SMSum, r.EnergyJ, r.MaxFBMiB, r.BusyThresholdPct} {
			a.measures[j][i] = strconv.FormatFloat(v, 'g', -1, 64)
		}
	}
	return a
}

// args are the arrays as statement parameters from $first on, in the order
// of unnestRollups' columns.
func (a *rollupArrays) args() []any {
	out := []any{a.keys, a.hours, a.days, a.clusters, a.uuids, a.nodes, a.models, a.profiles}
	for _, m := range a.measures {
		out = append(out, m)
	}
	return append(out, a.xids, a.samples, a.anomalies, a.lastXIDs)
}

// unnestRollups is a FROM item naming the rows' columns, its parameters
// numbered from first (see rollupArrays.args).
func unnestRollups(first int) string {
	types := []string{"text", "timestamptz", "text", "bigint", "text", "text", "text", "text",
		"text", "text", "text", "text", "text", "text", "text", "text", "bigint", "bigint", "bigint", "bigint"}
	params := make([]string, len(types))
	for i, t := range types {
		params[i] = "$" + strconv.Itoa(first+i) + "::" + t + "[]"
	}
	return `(SELECT v.device_key, v.hour, v.day, v.cluster_id, v.uuid, v.node, v.model, v.profile,
			CAST(v.observed_s AS numeric) AS observed_s, CAST(v.active_s AS numeric) AS active_s,
			CAST(v.util_sum AS numeric) AS util_sum, CAST(v.gr_sum AS numeric) AS gr_sum, CAST(v.sm_sum AS numeric) AS sm_sum,
			CAST(v.energy_j AS numeric) AS energy_j, CAST(v.max_fb_mib AS numeric) AS max_fb_mib,
			CAST(v.busy AS numeric) AS busy, v.xid_count, v.samples, v.energy_anomalies, v.last_xid
		FROM unnest(` + strings.Join(params, ", ") + `) AS v(device_key, hour, day, cluster_id, uuid, node, model, profile,
			observed_s, active_s, util_sum, gr_sum, sm_sum, energy_j, max_fb_mib, busy, xid_count, samples, energy_anomalies,
			last_xid))`
}

// upsertRollupsPG is upsertRollups on PostgreSQL.
func upsertRollupsPG(tx *gorm.DB, rows []GPURollup, now time.Time) error {
	ctx, pool := tx.Statement.Context, tx.Statement.ConnPool
	a := newRollupArrays(rows)
	// The sums of 10,000 rows are sorted by device and day: in memory, not
	// in temporary files (PostgreSQL's default allows 4 MB).
	if _, err := pool.ExecContext(ctx, "SET LOCAL work_mem = '64MB'"); err != nil {
		return err
	}
	var set strings.Builder
	for i, c := range rollupColumns {
		if i > 0 {
			set.WriteString(", ")
		}
		set.WriteString(c + " = excluded." + c)
	}
	// One statement: its parts see the table as it was before any of them
	// (PostgreSQL runs them on one snapshot), so the day rows move by the
	// stored hours that the insert replaces.
	got, err := pool.QueryContext(ctx, `WITH n_in AS MATERIALIZED `+unnestRollups(2)+`,
		moved AS (UPDATE gpu_rollup_days SET `+moveDaySet("$1")+`
			FROM (`+moveDaySums("n_in", storedHourLateral)+`) AS m
			WHERE gpu_rollup_days.device_key = m.device_key AND gpu_rollup_days.day = m.day AND m.moves = 1
				AND gpu_rollup_days.uuid = m.uuid_min AND gpu_rollup_days.uuid = m.uuid_max
			RETURNING gpu_rollup_days.device_key, gpu_rollup_days.day),
		written AS (INSERT INTO gpu_rollups (device_key, hour, uuid, cluster_id, node, model, observed_s,
				active_s, util_sum, gr_sum, sm_sum, energy_j, max_fb_mib, xid_count, samples, updated_at, profile, energy_anomalies,
				last_xid, busy_threshold_pct)
			SELECT device_key, hour, uuid, cluster_id, node, model, observed_s, active_s, util_sum, gr_sum, sm_sum, energy_j,
				max_fb_mib, xid_count, samples, $1, profile, energy_anomalies, last_xid, busy
			FROM n_in
			ON CONFLICT (device_key, hour) DO UPDATE SET `+set.String()+`
			WHERE gpu_rollups.cluster_id = excluded.cluster_id)
		SELECT device_key, day FROM moved`, append([]any{now}, a.args()...)...)
	if err != nil {
		return err
	}
	moved := make(map[deviceDay]bool, len(rows))
	for got.Next() {
		var k deviceDay
		if err := got.Scan(&k.key, &k.day); err != nil {
			got.Close()
			return err
		}
		moved[k] = true
	}
	if err := errors.Join(got.Err(), got.Close()); err != nil {
		return err
	}
	if err := upsertWorkloadsPG(tx, workloadRows(rows, now), now); err != nil {
		return err
	}
	return refreshUnmoved(tx, rows, moved, now)
}

// upsertWorkloadsPG is upsertWorkloads on PostgreSQL, in one statement.
func upsertWorkloadsPG(tx *gorm.DB, rows []GPUWorkloadHour, now time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	n := len(rows)
	uuids, workloads, observed, active := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	hours, clusters := make([]time.Time, n), make([]int64, n)
	for i, w := range rows {
		uuids[i], hours[i], workloads[i], clusters[i] = w.UUID, w.Hour.UTC(), w.Workload, int64(w.ClusterID)
		observed[i], active[i] = strconv.FormatFloat(w.ObservedS, 'g', -1, 64), strconv.FormatFloat(w.ActiveS, 'g', -1, 64)
	}
	_, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, `INSERT INTO gpu_workload_hours (uuid, hour, workload,
			cluster_id, observed_s, active_s, updated_at)
		SELECT uuid, hour, workload, cluster_id, CAST(observed_s AS numeric), CAST(active_s AS numeric), $1
		FROM unnest($2::text[], $3::timestamptz[], $4::text[], $5::bigint[], $6::text[], $7::text[])
			AS v(uuid, hour, workload, cluster_id, observed_s, active_s)
		ON CONFLICT (uuid, hour, workload) DO UPDATE SET observed_s = excluded.observed_s, active_s = excluded.active_s,
			updated_at = excluded.updated_at
		WHERE gpu_workload_hours.cluster_id = excluded.cluster_id`, now, uuids, hours, workloads, clusters, observed, active)
	return err
}
