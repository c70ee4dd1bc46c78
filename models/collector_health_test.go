package models_test

import (
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"kaiportal/dcgm"
	"kaiportal/models"
	"kaiportal/testdb"
)

// TestCollectorHealthStore: endpoint states replace the stored ones, the
// failure history keeps the cluster's last Keep, poll counts add up, and
// the status page's figures come from them.
func TestCollectorHealthStore(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		s := models.TelemetryStore{DB: db}
		a, b := "http://10.0.0.1:9400/metrics", "http://10.0.0.2:9400/metrics"
		t0 := gpuNow.Add(-2 * time.Minute)
		fail := func(i int, ep string) dcgm.Failure {
			return dcgm.Failure{At: t0.Add(time.Duration(i) * 15 * time.Second), Endpoint: ep,
				Err: fmt.Sprintf("dcgm-exporter %s: connection refused (%d)", ep, i), Fails: i + 1}
		}
		first := dcgm.Health{At: t0.Add(time.Minute), Keep: 3,
			Endpoints: []dcgm.EndpointStatus{
				{Endpoint: a, State: dcgm.EndpointOK, GPUsSeen: 8, LastAttempt: t0, LastSuccess: t0, NextAttempt: t0.Add(15 * time.Second)},
				{Endpoint: b, State: dcgm.EndpointBackingOff, Fails: 5, LastAttempt: t0.Add(time.Minute), LastErrorAt: t0.Add(time.Minute),
					LastError: "connection refused", NextAttempt: t0.Add(2 * time.Minute)},
			},
			Failures: []dcgm.Failure{fail(0, b), fail(1, b), fail(2, b), fail(3, b), fail(4, b)},
			Counts: []dcgm.PollCount{{Endpoint: a, Hour: t0.Truncate(time.Hour), Polls: 5},
				{Endpoint: b, Hour: t0.Truncate(time.Hour), Polls: 5, Failures: 5}},
		}
		if err := s.RecordHealth(ctx, f.cluster.ID, first); err != nil {
			t.Fatal(err)
		}
		fs, err := models.ClusterPollFailures(ctx, db, f.cluster.ID, 100)
		if err != nil || len(fs) != 3 {
			t.Fatalf("%d failures kept (%v), want the last 3", len(fs), err)
		}
		for i, want := range []dcgm.Failure{fail(4, b), fail(3, b), fail(2, b)} {
			if got := fs[i]; !got.At.Equal(want.At) || got.Endpoint != b || got.Error != want.Err || got.InARow != want.Fails {
				t.Errorf("failure %d: %+v, want %+v", i, got, want)
			}
		}

		// A second report: two more failures of a, counts added, and the
		// history still holds 3, the newest.
		second := first
		second.At = t0.Add(2 * time.Minute)
		second.Failures = []dcgm.Failure{fail(5, a), fail(6, a)}
		second.Counts = []dcgm.PollCount{{Endpoint: a, Hour: t0.Truncate(time.Hour), Polls: 2, Failures: 2}}
		second.Endpoints = []dcgm.EndpointStatus{first.Endpoints[0], first.Endpoints[1]}
		second.Endpoints[0].State, second.Endpoints[0].Fails, second.Endpoints[0].LastError = dcgm.EndpointRetrying, 2, "refused"
		if err := s.RecordHealth(ctx, f.cluster.ID, second); err != nil {
			t.Fatal(err)
		}
		fs, _ = models.ClusterPollFailures(ctx, db, f.cluster.ID, 100)
		if len(fs) != 3 || fs[0].Endpoint != a || fs[0].InARow != 7 || fs[2].Endpoint != b || fs[2].InARow != 5 {
			t.Errorf("history after the second report: %+v", fs)
		}
		// Another cluster's history is its own.
		if err := s.RecordHealth(ctx, f.hCluster.ID, dcgm.Health{At: t0, Keep: 1, Failures: []dcgm.Failure{fail(0, "h")}}); err != nil {
			t.Fatal(err)
		}
		if fs, _ = models.ClusterPollFailures(ctx, db, f.cluster.ID, 100); len(fs) != 3 {
			t.Errorf("another cluster's report pruned this one's history: %d left", len(fs))
		}

		h, err := models.GetClusterHealth(ctx, db, f.cluster.ID, gpuNow)
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Endpoints) != 2 || h.Endpoints[0].Endpoint != a || h.Endpoints[1].Endpoint != b {
			t.Fatalf("endpoints %+v", h.Endpoints)
		}
		ea, eb := h.Endpoints[0], h.Endpoints[1]
		if ea.State != dcgm.EndpointRetrying || ea.Failures != 2 || ea.Polls != 7 || ea.GPUsSeen != 8 ||
			ea.NextAttemptAt == nil || !ea.NextAttemptAt.Equal(t0.Add(15*time.Second)) {
			t.Errorf("endpoint a: %+v", ea)
		}
		if r, ok := eb.FailureRate(); !ok || r != 1 || eb.LastErrorAt == nil || eb.LastSuccessAt != nil {
			t.Errorf("endpoint b: rate %v %t, %+v", r, ok, eb)
		}
		if r, _ := h.FailureRate(); h.Polls != 12 || h.Failures != 7 || r != 7.0/12 {
			t.Errorf("cluster: %d polls, %d failures, rate %v", h.Polls, h.Failures, r)
		}
		if h.State != models.ClusterRetrying {
			t.Errorf("state %q, want retrying", h.State)
		}

		// Counts older than the window are left out of the rates.
		old := dcgm.Health{At: second.At, Keep: 3, Endpoints: second.Endpoints,
			Counts: []dcgm.PollCount{{Endpoint: a, Hour: gpuNow.Add(-30 * time.Hour).Truncate(time.Hour), Polls: 100, Failures: 100}}}
		if err := s.RecordHealth(ctx, f.cluster.ID, old); err != nil {
			t.Fatal(err)
		}
		if h, _ = models.GetClusterHealth(ctx, db, f.cluster.ID, gpuNow); h.Polls != 12 {
			t.Errorf("%d polls in the last 24 h, want 12", h.Polls)
		}

		// An endpoint taken off the cluster goes; its failures stay.
		third := dcgm.Health{At: t0.Add(3 * time.Minute), Keep: 3, Endpoints: []dcgm.EndpointStatus{second.Endpoints[1]}}
		if err := s.RecordHealth(ctx, f.cluster.ID, third); err != nil {
			t.Fatal(err)
		}
		all, err := models.ListClusterHealth(ctx, db, gpuNow)
		if err != nil || len(all) != 2 {
			t.Fatalf("ListClusterHealth: %d, %v", len(all), err)
		}
		for _, c := range all {
			if c.ID == f.cluster.ID && (len(c.Endpoints) != 1 || c.Endpoints[0].Endpoint != b || c.State != models.ClusterBackingOff) {
				t.Errorf("after removing endpoint a: state %q, %+v", c.State, c.Endpoints)
			}
		}
		if fs, _ = models.ClusterPollFailures(ctx, db, f.cluster.ID, 100); len(fs) != 3 || fs[0].Endpoint != a {
			t.Errorf("history after removing an endpoint: %+v", fs)
		}
	})
}

// TestClusterCollectionState: what the status pages call a cluster, from
// its endpoints and how recently a collector reported.
func TestClusterCollectionState(t *testing.T) {
	now := gpuNow
	ago := func(d time.Duration) *time.Time { t := now.Add(-d); return &t }
	ep := func(state string, reported time.Duration) models.EndpointHealth {
		return models.EndpointHealth{ClusterEndpoint: models.ClusterEndpoint{State: state, ReportedAt: now.Add(-reported)}}
	}
	for _, tc := range []struct {
		name      string
		cluster   models.Cluster
		endpoints []models.EndpointHealth
		want      string
	}{
		{"never reported", models.Cluster{PollSeconds: 15}, nil, models.ClusterWaiting},
		{"all answer", models.Cluster{PollSeconds: 15},
			[]models.EndpointHealth{ep(dcgm.EndpointOK, time.Minute), ep(dcgm.EndpointOK, time.Minute)}, models.ClusterOK},
		{"one of two answers", models.Cluster{PollSeconds: 15},
			[]models.EndpointHealth{ep(dcgm.EndpointOK, time.Minute), ep(dcgm.EndpointBackingOff, time.Minute)}, models.ClusterPartial},
		{"none answers, retried at the interval", models.Cluster{PollSeconds: 15},
			[]models.EndpointHealth{ep(dcgm.EndpointRetrying, 0), ep(dcgm.EndpointBackingOff, 0)}, models.ClusterRetrying},
		// At the longest wait the collector still reports every minute: not "수집 중단".
		{"none answers, backing off", models.Cluster{PollSeconds: 5},
			[]models.EndpointHealth{ep(dcgm.EndpointBackingOff, 50*time.Second)}, models.ClusterBackingOff},
		{"no collector for long", models.Cluster{PollSeconds: 5},
			[]models.EndpointHealth{ep(dcgm.EndpointOK, 4*time.Minute)}, models.ClusterStale},
		{"not polled yet", models.Cluster{PollSeconds: 15},
			[]models.EndpointHealth{ep(dcgm.EndpointWaiting, 0)}, models.ClusterWaiting},
		{"older collector: cluster status only", models.Cluster{PollSeconds: 15, StatusAt: ago(time.Minute),
			LastErrorAt: ago(time.Minute), LastError: "refused"}, nil, models.ClusterFailing},
		{"older collector, stale", models.Cluster{PollSeconds: 15, StatusAt: ago(time.Hour), LastSuccessAt: ago(time.Hour)},
			nil, models.ClusterStale},
	} {
		h := models.ClusterHealth{Cluster: tc.cluster, Endpoints: tc.endpoints}
		if got := h.CollectionState(now); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestPollHoursPruned: a collector report keeps its cluster's poll counts
// of the last PollHoursKept and removes older ones; another cluster's stay
// until its own report. The failure history stays bounded by count, however
// many reports come.
func TestPollHoursPruned(t *testing.T) {
	t.Parallel()
	testdb.Each(t, func() time.Time { return gpuNow }, func(t *testing.T, db *gorm.DB) {
		ctx := t.Context()
		f := newGPUFixture(t, db)
		s := models.TelemetryStore{DB: db}
		ep := "http://10.0.0.1:9400/metrics"
		hour := gpuNow.UTC().Truncate(time.Hour)
		ages := []time.Duration{0, 24 * time.Hour, 30 * 24 * time.Hour, models.PollHoursKept, models.PollHoursKept + time.Hour, 400 * 24 * time.Hour}
		for _, id := range []uint{f.cluster.ID, f.hCluster.ID} {
			var counts []dcgm.PollCount
			for _, age := range ages {
				counts = append(counts, dcgm.PollCount{Endpoint: ep, Hour: hour.Add(-age), Polls: 1})
			}
			// Reported long ago, so that nothing is pruned yet.
			if err := s.RecordHealth(ctx, id, dcgm.Health{At: hour.Add(-500 * 24 * time.Hour), Keep: 5, Counts: counts}); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.RecordHealth(ctx, f.cluster.ID, dcgm.Health{At: gpuNow, Keep: 5,
			Counts: []dcgm.PollCount{{Endpoint: ep, Hour: hour, Polls: 1}}}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			cluster uint
			age     time.Duration
			kept    bool
		}{
			{f.cluster.ID, 0, true},
			{f.cluster.ID, 24 * time.Hour, true},
			{f.cluster.ID, 30 * 24 * time.Hour, true},
			{f.cluster.ID, models.PollHoursKept, true}, // the cutoff hour itself
			{f.cluster.ID, models.PollHoursKept + time.Hour, false},
			{f.cluster.ID, 400 * 24 * time.Hour, false},
			{f.hCluster.ID, 400 * 24 * time.Hour, true}, // not reported since
		} {
			var n int64
			db.Model(&models.PollHour{}).Where("cluster_id = ? AND hour = ?", tc.cluster, hour.Add(-tc.age)).Count(&n)
			if (n == 1) != tc.kept {
				t.Errorf("cluster %d, hour %s old: %d rows, kept %t", tc.cluster, tc.age, n, tc.kept)
			}
		}
		var n int64
		db.Model(&models.PollHour{}).Where("cluster_id = ? AND hour < ?", f.cluster.ID, models.PollHoursCutoff(gpuNow)).Count(&n)
		if n != 0 {
			t.Errorf("%d hours older than the cutoff kept", n)
		}

		for i := range 20 {
			at := gpuNow.Add(time.Duration(i) * time.Minute)
			if err := s.RecordHealth(ctx, f.cluster.ID, dcgm.Health{At: at, Keep: 5,
				Failures: []dcgm.Failure{{At: at, Endpoint: ep, Err: "refused", Fails: i + 1}}}); err != nil {
				t.Fatal(err)
			}
		}
		db.Model(&models.PollFailure{}).Where("cluster_id = ?", f.cluster.ID).Count(&n)
		if n != 5 {
			t.Errorf("%d failures kept after 20 reports, want 5", n)
		}
	})
}
