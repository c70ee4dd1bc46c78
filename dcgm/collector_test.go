package dcgm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// memStore is the collector's store in memory, with the same rules as the
// database: rollups replace by (device, hour), leases expire.
type memStore struct {
	mu       sync.Mutex
	clusters []ClusterConfig
	leases   map[uint]memLease
	rollups  map[string]Rollup // device key + hour
	statuses map[uint][]Status
	gpus     map[uint]map[string]GPUInfo
	failNext int // UpsertRollups calls to fail
}

type memLease struct {
	owner   string
	expires time.Time
}

func newMemStore(cs ...ClusterConfig) *memStore {
	return &memStore{clusters: cs, leases: map[uint]memLease{}, rollups: map[string]Rollup{},
		statuses: map[uint][]Status{}, gpus: map[uint]map[string]GPUInfo{}}
}

func (m *memStore) setClusters(cs ...ClusterConfig) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.clusters = cs
}

func (m *memStore) Clusters(context.Context) ([]ClusterConfig, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]ClusterConfig(nil), m.clusters...), nil
}

func (m *memStore) AcquireLease(_ context.Context, id uint, owner string, ttl time.Duration, now time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.leases[id]; ok && l.owner != owner && now.Before(l.expires) {
		return false, nil
	}
	m.leases[id] = memLease{owner, now.Add(ttl)}
	return true, nil
}

func (m *memStore) ReleaseLease(_ context.Context, id uint, owner string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.leases[id].owner == owner {
		delete(m.leases, id)
	}
	return nil
}

func (m *memStore) owner(id uint) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.leases[id].owner
}

func (m *memStore) StoredRollups(_ context.Context, id uint, since time.Time) ([]Rollup, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Rollup
	for _, r := range m.rollups {
		if strings.HasPrefix(r.Key, fmt.Sprintf("c%d-", id)) && !r.Hour.Before(since) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (m *memStore) UpsertRollups(_ context.Context, _ uint, rs []Rollup, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failNext > 0 {
		m.failNext--
		return errors.New("database is down")
	}
	for _, r := range rs {
		m.rollups[r.Key+"@"+r.Hour.Format(time.RFC3339)] = r
	}
	return nil
}

func (m *memStore) RecordStatus(_ context.Context, id uint, s Status) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.statuses[id] = append(m.statuses[id], s)
	return nil
}

func (m *memStore) RecordGPUs(_ context.Context, id uint, gs []GPUInfo, _ time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gpus[id] == nil {
		m.gpus[id] = map[string]GPUInfo{}
	}
	for _, g := range gs {
		m.gpus[id][g.UUID] = g
	}
	return nil
}

// totals sums the stored rollups of a cluster.
func (m *memStore) totals(id uint) (samples int, observed float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.rollups {
		if strings.HasPrefix(r.Key, fmt.Sprintf("c%d-", id)) {
			samples += r.Samples
			observed += r.ObservedSeconds
		}
	}
	return samples, observed
}

func (m *memStore) lastStatus(id uint) (Status, int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ss := m.statuses[id]
	if len(ss) == 0 {
		return Status{}, 0
	}
	return ss[len(ss)-1], len(ss)
}

// workSource answers every poll at once with two GPUs of its cluster.
type workSource struct {
	cluster uint
	polls   atomic.Int64
	closed  atomic.Bool
	energy  atomic.Int64
	fail    bool
}

func (s *workSource) Poll(ctx context.Context) (Poll, error) {
	if err := ctx.Err(); err != nil {
		return Poll{}, err
	}
	s.polls.Add(1)
	if s.fail {
		return Poll{}, errors.New("connection refused")
	}
	now := time.Now()
	e := float64(s.energy.Add(5000))
	util, fb := 50.0, 1000.0
	var p Poll
	for i := range 2 {
		uuid := fmt.Sprintf("c%d-GPU-%d", s.cluster, i)
		p.Samples = append(p.Samples, Sample{UUID: uuid, Node: "n1", Index: i, Model: "NVIDIA B200", Time: now,
			Util: &util, FBUsed: &fb, EnergyMJ: &e})
	}
	return p, nil
}

func (s *workSource) Close() error { s.closed.Store(true); return nil }

// hangSource never answers and ignores its context, like a wedged library call.
type hangSource struct {
	polls   atomic.Int64
	release chan struct{}
}

func (s *hangSource) Poll(context.Context) (Poll, error) {
	s.polls.Add(1)
	<-s.release
	return Poll{}, errors.New("released")
}

func (s *hangSource) Close() error { return nil }

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// The collector tests run in a synctest bubble: the collector's timers and
// tickers, time.Now and time.Sleep run on the bubble's fake clock, which
// moves only when every goroutine of the bubble is blocked. A test sleeps
// to let the collector work for that long in its time, and takes no time
// of its own; counts do not depend on how loaded the machine is.

// testCollector is a collector with millisecond timings.
func testCollector(store Store, owner string, sources func(ClusterConfig) (Source, error)) *Collector {
	return &Collector{Store: store, Owner: owner, Log: quietLog(),
		NewSource:   func(cfg ClusterConfig, _ func() time.Time) (Source, error) { return sources(cfg) },
		WriteEvery:  40 * time.Millisecond,
		ReloadEvery: 30 * time.Millisecond,
		LeaseTTL:    150 * time.Millisecond,
		PollTimeout: 50 * time.Millisecond,
		MaxBackoff:  200 * time.Millisecond,
	}
}

// start runs the collector until the returned stop is called; stop waits for Run to return.
func start(t *testing.T, c *Collector) (stop func() time.Duration) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	var once sync.Once
	var took time.Duration
	stop = func() time.Duration {
		once.Do(func() {
			begin := time.Now()
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the collector did not stop within 5 s")
			}
			took = time.Since(begin)
		})
		return took
	}
	t.Cleanup(func() { stop() })
	return stop
}

// waitFor lets the collector run, in steps of 5 ms of the bubble's time,
// until cond holds; it fails after 5 s of that time.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within 5 s of the collector's time", what)
		}
		time.Sleep(5 * time.Millisecond)
		synctest.Wait()
	}
}

func cfgOf(id uint, interval time.Duration) ClusterConfig {
	return ClusterConfig{ID: id, Name: fmt.Sprintf("cluster-%d", id), Kind: KindSimulator, Interval: interval, GPUCount: 2}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		interval time.Duration
		fails    int
		max      time.Duration
		want     time.Duration
	}{
		{10 * time.Second, 0, 5 * time.Minute, 10 * time.Second},
		{10 * time.Second, 1, 5 * time.Minute, 20 * time.Second},
		{10 * time.Second, 3, 5 * time.Minute, 80 * time.Second},
		{10 * time.Second, 5, 5 * time.Minute, 5 * time.Minute},
		{10 * time.Second, 500, 5 * time.Minute, 5 * time.Minute},
		{10 * time.Minute, 2, 5 * time.Minute, 10 * time.Minute}, // never less than the interval
	} {
		if got := Backoff(tc.interval, tc.fails, tc.max); got != tc.want {
			t.Errorf("Backoff(%s, %d, %s) = %s, want %s", tc.interval, tc.fails, tc.max, got, tc.want)
		}
	}
}

func TestCollectorDefaults(t *testing.T) {
	c := &Collector{Store: newMemStore()}
	c.defaults()
	if c.WriteEvery != time.Minute || c.LeaseTTL != 3*time.Minute || c.Owner == "" || c.MaxBackoff != 5*time.Minute {
		t.Errorf("defaults: write every %s, lease %s, owner %q, max backoff %s", c.WriteEvery, c.LeaseTTL, c.Owner, c.MaxBackoff)
	}
	l := &clusterLoop{c: c, cfg: ClusterConfig{Interval: time.Second}}
	if l.pollTimeout() != 10*time.Second {
		t.Errorf("poll timeout for a 1 s interval: %s", l.pollTimeout())
	}
	l.cfg.Interval = 10 * time.Minute
	if l.pollTimeout() != time.Minute {
		t.Errorf("poll timeout for a 10 min interval: %s", l.pollTimeout())
	}
}

// TestCollectorHungClusterDoesNotDelayOthers: one cluster's source hangs
// for ever, ignoring its context; the other keeps producing rollups, the hung
// one shows an error, and the collector still stops at once.
func TestCollectorHungClusterDoesNotDelayOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore(cfgOf(1, 10*time.Millisecond), cfgOf(2, 10*time.Millisecond))
		hang := &hangSource{release: make(chan struct{})}
		defer close(hang.release)
		work := &workSource{cluster: 2}
		c := testCollector(store, "solo", func(cfg ClusterConfig) (Source, error) {
			if cfg.ID == 1 {
				return hang, nil
			}
			return work, nil
		})
		stop := start(t, c)

		waitFor(t, "rollups of the working cluster", func() bool {
			n, _ := store.totals(2)
			return n >= 20
		})
		waitFor(t, "an error status for the hung cluster", func() bool {
			st, _ := store.lastStatus(1)
			return strings.Contains(st.Err, "timed out") || strings.Contains(st.Err, "still running")
		})
		if st, _ := store.lastStatus(2); !st.OK || st.GPUsSeen != 2 || st.Err != "" {
			t.Errorf("working cluster status: %+v", st)
		}
		if n := hang.polls.Load(); n != 1 {
			t.Errorf("the hung source was polled %d times; a new poll must wait for the hung one", n)
		}
		store.mu.Lock()
		gpus := len(store.gpus[2])
		store.mu.Unlock()
		if gpus != 2 {
			t.Errorf("%d GPUs recorded for the working cluster, want 2", gpus)
		}
		if took := stop(); took > stopGrace {
			t.Errorf("stopping took %s with a hung poll, want at most the grace of %s", took, stopGrace)
		}
		if !work.closed.Load() {
			t.Error("the working source was not closed")
		}
		if store.owner(1) != "" || store.owner(2) != "" {
			t.Error("leases not released at stop")
		}
		_, observed := store.totals(2)
		if observed <= 0 {
			t.Errorf("observed seconds %v", observed)
		}
	})
}

// TestCollectorBacksOff: a failing source is polled less and less often.
func TestCollectorBacksOff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore(cfgOf(1, 10*time.Millisecond))
		src := &workSource{cluster: 1, fail: true}
		c := testCollector(store, "solo", func(ClusterConfig) (Source, error) { return src, nil })
		c.MaxBackoff = 80 * time.Millisecond
		stop := start(t, c)
		time.Sleep(600 * time.Millisecond)
		stop()
		// Without backoff: 60 polls. With it, the waits are 20, 40, 80, 80, … ms:
		// polls at 0, 20, 60, 140, 220, 300, 380, 460 and 540 ms.
		if n := src.polls.Load(); n != 9 {
			t.Errorf("%d polls in 600 ms; want 9, backing off", n)
		}
		st, _ := store.lastStatus(1)
		if st.OK || st.Err != "connection refused" {
			t.Errorf("status %+v", st)
		}
	})
}

// TestCollectorSourceErrorIsStatus: a source that cannot be built (no
// endpoint, no library) is a status, not a crash.
func TestCollectorSourceErrorIsStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore(cfgOf(1, 10*time.Millisecond))
		c := testCollector(store, "solo", func(ClusterConfig) (Source, error) { return nil, ErrNoLibrary })
		start(t, c)
		waitFor(t, "the status", func() bool {
			st, _ := store.lastStatus(1)
			return st.Err == ErrNoLibrary.Error()
		})
	})
}

// TestCollectorLeaseOneOwner: two collectors share a store; one owns the
// cluster, and the other takes over when it stops.
func TestCollectorLeaseOneOwner(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore(cfgOf(1, 10*time.Millisecond))
		srcA, srcB := &workSource{cluster: 1}, &workSource{cluster: 1}
		a := testCollector(store, "alpha", func(ClusterConfig) (Source, error) { return srcA, nil })
		b := testCollector(store, "beta", func(ClusterConfig) (Source, error) { return srcB, nil })
		stopA := start(t, a)
		waitFor(t, "alpha's lease", func() bool { return store.owner(1) == "alpha" })
		stopB := start(t, b)
		time.Sleep(300 * time.Millisecond)
		if n := srcB.polls.Load(); n != 0 {
			t.Fatalf("beta polled %d times while alpha held the lease", n)
		}
		if store.owner(1) != "alpha" {
			t.Fatalf("lease owner %q", store.owner(1))
		}
		before, _ := store.totals(1)
		stopA()
		waitFor(t, "beta to take over", func() bool { return store.owner(1) == "beta" && srcB.polls.Load() > 5 })
		waitFor(t, "beta's rollups", func() bool {
			n, _ := store.totals(1)
			return n > before
		})
		stopB()
	})
}

// TestCollectorRestartKeepsTheHour: a collector restarted mid-hour adds to
// what the previous run stored instead of writing over it.
func TestCollectorRestartKeepsTheHour(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore(cfgOf(1, 10*time.Millisecond))
		first := &workSource{cluster: 1}
		stop := start(t, testCollector(store, "run-1", func(ClusterConfig) (Source, error) { return first, nil }))
		waitFor(t, "the first run's rollups", func() bool { n, _ := store.totals(1); return n >= 20 })
		stop()
		s1, o1 := store.totals(1)
		if polls := first.polls.Load(); int64(s1) < 2*(polls-1) || int64(s1) > 2*polls {
			t.Errorf("first run: %d samples stored of %d polls × 2 GPUs", s1, polls)
		}

		second := &workSource{cluster: 1}
		stop = start(t, testCollector(store, "run-2", func(ClusterConfig) (Source, error) { return second, nil }))
		waitFor(t, "the second run's rollups", func() bool { n, _ := store.totals(1); return n >= s1+20 })
		stop()
		s2, o2 := store.totals(1)
		polls := second.polls.Load()
		if int64(s2-s1) < 2*(polls-1) || int64(s2-s1) > 2*polls {
			t.Errorf("second run added %d samples for %d polls × 2 GPUs (first run %d, total %d)", s2-s1, polls, s1, s2)
		}
		if o2 <= o1 {
			t.Errorf("observed seconds went from %v to %v", o1, o2)
		}
	})
}

// TestCollectorRetriesFailedWrites: rollups whose write failed go out with
// the next write; nothing is lost while the database is down for a moment.
func TestCollectorRetriesFailedWrites(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore(cfgOf(1, 10*time.Millisecond))
		store.failNext = 3
		src := &workSource{cluster: 1}
		stop := start(t, testCollector(store, "solo", func(ClusterConfig) (Source, error) { return src, nil }))
		waitFor(t, "rollups after the outage", func() bool { n, _ := store.totals(1); return n >= 20 })
		stop()
		n, _ := store.totals(1)
		if polls := src.polls.Load(); int64(n) < 2*(polls-1) {
			t.Errorf("%d samples stored of %d polls × 2 GPUs", n, polls)
		}
	})
}

// TestCollectorFollowsClusterChanges: clusters added, changed and removed
// while it runs get loops started, restarted and stopped.
func TestCollectorFollowsClusterChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore(cfgOf(1, 10*time.Millisecond))
		var mu sync.Mutex
		made := map[uint][]*workSource{}
		c := testCollector(store, "solo", func(cfg ClusterConfig) (Source, error) {
			mu.Lock()
			defer mu.Unlock()
			s := &workSource{cluster: cfg.ID}
			made[cfg.ID] = append(made[cfg.ID], s)
			return s, nil
		})
		sources := func(id uint) []*workSource {
			mu.Lock()
			defer mu.Unlock()
			return append([]*workSource(nil), made[id]...)
		}
		start(t, c)
		waitFor(t, "cluster 1 polled", func() bool { s := sources(1); return len(s) == 1 && s[0].polls.Load() > 2 })

		store.setClusters(cfgOf(1, 10*time.Millisecond), cfgOf(2, 10*time.Millisecond))
		waitFor(t, "cluster 2 polled", func() bool { s := sources(2); return len(s) == 1 && s[0].polls.Load() > 2 })

		changed := cfgOf(1, 15*time.Millisecond)
		store.setClusters(changed, cfgOf(2, 10*time.Millisecond))
		waitFor(t, "cluster 1 restarted", func() bool { s := sources(1); return len(s) == 2 && s[0].closed.Load() && s[1].polls.Load() > 2 })

		store.setClusters(changed)
		waitFor(t, "cluster 2 stopped", func() bool { return sources(2)[0].closed.Load() })
		n := sources(2)[0].polls.Load()
		time.Sleep(100 * time.Millisecond)
		if m := sources(2)[0].polls.Load(); m != n {
			t.Errorf("removed cluster polled %d more times", m-n)
		}
	})
}

func TestSourcesPartialFailure(t *testing.T) {
	ok1, ok2, bad := &workSource{cluster: 1}, &workSource{cluster: 2}, &workSource{cluster: 3, fail: true}
	p, err := Sources(ok1, bad, ok2).Poll(t.Context())
	var partial *PartialError
	if !errors.As(err, &partial) || partial.Failed != 1 || partial.Total != 3 || len(p.Samples) != 4 {
		t.Errorf("one of three failing: %d samples, %v", len(p.Samples), err)
	}
	if _, err := Sources(bad, &workSource{fail: true}).Poll(t.Context()); err == nil || errors.As(err, &partial) {
		t.Errorf("all failing: %v, want the first error", err)
	}
	if Sources(ok1) != Source(ok1) {
		t.Error("one source is not wrapped")
	}

	// A partly failing cluster is collected, and shows the error.
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore(cfgOf(1, 10*time.Millisecond))
		c := testCollector(store, "solo", func(ClusterConfig) (Source, error) {
			return Sources(&workSource{cluster: 1}, &workSource{cluster: 1, fail: true}), nil
		})
		start(t, c)
		waitFor(t, "a partial status", func() bool {
			st, _ := store.lastStatus(1)
			return st.OK && strings.Contains(st.Err, "1 of 2 endpoints failed") && st.GPUsSeen == 2
		})
	})
}

func TestSourceFor(t *testing.T) {
	body, err := os.ReadFile(filepath.Join("testdata", "b200.prom"))
	if err != nil {
		t.Fatal(err)
	}
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		w.Write(body)
	}))
	defer srv.Close()
	src, err := SourceFor(ClusterConfig{Kind: KindExporter, Endpoints: []string{srv.URL + "/metrics"}, BearerToken: "tok"}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	p, err := src.Poll(t.Context())
	if err != nil || len(p.Samples) == 0 {
		t.Fatalf("exporter poll: %d samples, %v", len(p.Samples), err)
	}
	if got := auth.Load(); got != "Bearer tok" {
		t.Errorf("Authorization %q", got)
	}
	src.Close()

	sim, err := SourceFor(ClusterConfig{Kind: KindSimulator, Name: "demo", GPUCount: 20, GPUModel: "NVIDIA B200", Seed: 3,
		Interval: 10 * time.Second}, func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	if gpus := sim.(*Simulator).GPUs(); len(gpus) == 0 || len(gpus) > 24 || gpus[0].Model != "NVIDIA B200" {
		t.Errorf("simulated cluster of 20: %d GPUs (%+v)", len(gpus), gpus)
	}
	if cfg := SimulatorConfigFor(ClusterConfig{GPUCount: 4}, nil); cfg.Nodes != 1 || cfg.GPUsPerNode != 4 {
		t.Errorf("simulator of 4 GPUs: %+v", cfg)
	}
	if cfg := SimulatorConfigFor(ClusterConfig{GPUCount: 64}, nil); cfg.Nodes != 8 || cfg.GPUsPerNode != 8 {
		t.Errorf("simulator of 64 GPUs: %+v", cfg)
	}

	he, err := SourceFor(ClusterConfig{Kind: KindHostengine, Endpoints: []string{"10.0.0.1:5555", "10.0.0.2:5555"}}, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	he.Close()
	for _, cfg := range []ClusterConfig{{Kind: KindExporter}, {Kind: KindHostengine}, {Kind: "snmp"}} {
		if _, err := SourceFor(cfg, time.Now); err == nil {
			t.Errorf("SourceFor(%+v) built a source", cfg)
		}
	}
}
