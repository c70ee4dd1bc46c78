package dcgm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"
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
	// RecordHealth: endpoints' last states, failures (the last Keep) and poll counts.
	endpoints map[uint]map[string]EndpointStatus
	failures  map[uint][]Failure
	counts    map[uint]map[string]PollCount // endpoint@hour
	reported  map[uint]time.Time
}

type memLease struct {
	owner   string
	expires time.Time
}

func newMemStore(cs ...ClusterConfig) *memStore {
	return &memStore{clusters: cs, leases: map[uint]memLease{}, rollups: map[string]Rollup{},
		statuses: map[uint][]Status{}, gpus: map[uint]map[string]GPUInfo{},
		endpoints: map[uint]map[string]EndpointStatus{}, failures: map[uint][]Failure{},
		counts: map[uint]map[string]PollCount{}, reported: map[uint]time.Time{}}
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

func (m *memStore) RecordHealth(_ context.Context, id uint, h Health) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	eps := map[string]EndpointStatus{}
	for _, e := range h.Endpoints {
		eps[e.Endpoint] = e
	}
	m.endpoints[id] = eps
	fs := append(m.failures[id], h.Failures...)
	if len(fs) > h.Keep {
		fs = fs[len(fs)-h.Keep:]
	}
	m.failures[id] = fs
	if m.counts[id] == nil {
		m.counts[id] = map[string]PollCount{}
	}
	for _, n := range h.Counts {
		k := n.Endpoint + "@" + n.Hour.Format(time.RFC3339)
		c := m.counts[id][k]
		c.Endpoint, c.Hour = n.Endpoint, n.Hour
		c.Polls += n.Polls
		c.Failures += n.Failures
		m.counts[id][k] = c
	}
	m.reported[id] = h.At
	return nil
}

// endpoint is the stored state of an endpoint.
func (m *memStore) endpoint(id uint, name string) EndpointStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.endpoints[id][name]
}

// storedFailures are the stored failures of a cluster, oldest first.
func (m *memStore) storedFailures(id uint) []Failure {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Failure(nil), m.failures[id]...)
}

// pollCounts sums the stored poll counts of an endpoint.
func (m *memStore) pollCounts(id uint, endpoint string) (polls, failures int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.counts[id] {
		if c.Endpoint == endpoint {
			polls += c.Polls
			failures += c.Failures
		}
	}
	return polls, failures
}

// observed is the stored observed seconds of one device.
func (m *memStore) observed(key string) (seconds float64, samples int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.rollups {
		if r.Key == key {
			seconds += r.ObservedSeconds
			samples += r.Samples
		}
	}
	return seconds, samples
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

// workSource answers every poll at once with two GPUs of its cluster (on
// node, when set). While failUntil is in the future (the bubble's clock), or
// with fail, it fails instead. It records when it was polled.
type workSource struct {
	cluster   uint
	node      string
	polls     atomic.Int64
	closed    atomic.Bool
	energy    atomic.Int64
	fail      bool
	failUntil time.Time

	mu    sync.Mutex
	times []time.Time
}

func (s *workSource) Poll(ctx context.Context) (Poll, error) {
	if err := ctx.Err(); err != nil {
		return Poll{}, err
	}
	s.polls.Add(1)
	now := time.Now()
	s.mu.Lock()
	s.times = append(s.times, now)
	s.mu.Unlock()
	if s.fail || now.Before(s.failUntil) {
		return Poll{}, errors.New("connection refused")
	}
	e := float64(s.energy.Add(5000))
	util, fb := 50.0, 1000.0
	var p Poll
	for i := range 2 {
		p.Samples = append(p.Samples, Sample{UUID: s.uuid(i), Node: cmp.Or(s.node, "n1"), Index: i, Model: "NVIDIA B200",
			Time: now, Util: &util, FBUsed: &fb, EnergyMJ: &e})
	}
	return p, nil
}

func (s *workSource) uuid(i int) string {
	if s.node != "" {
		return fmt.Sprintf("c%d-%s-GPU-%d", s.cluster, s.node, i)
	}
	return fmt.Sprintf("c%d-GPU-%d", s.cluster, i)
}

// pollTimes are the instants the source was polled at.
func (s *workSource) pollTimes() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.times...)
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

// stallSource accepts the connection and never answers, until the poll's
// context ends: a dcgm-exporter whose host is wedged.
type stallSource struct{ polls atomic.Int64 }

func (s *stallSource) Poll(ctx context.Context) (Poll, error) {
	s.polls.Add(1)
	<-ctx.Done()
	return Poll{}, fmt.Errorf("dcgm-exporter http://10.0.0.9:9400/metrics: %w", ctx.Err())
}

func (s *stallSource) Close() error { return nil }

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// The collector tests run in a synctest bubble: the collector's timers and
// tickers, time.Now and time.Sleep run on the bubble's fake clock, which
// moves only when every goroutine of the bubble is blocked. A test sleeps
// to let the collector work for that long in its time, and takes no time
// of its own; counts do not depend on how loaded the machine is.

// testCollector is a collector with millisecond timings; sources builds
// the source of each endpoint.
func testCollector(store Store, owner string, sources func(cfg ClusterConfig, endpoint string) (Source, error)) *Collector {
	return &Collector{Store: store, Owner: owner, Log: quietLog(),
		NewSource: func(cfg ClusterConfig, endpoint string, _ func() time.Time) (Source, error) {
			return sources(cfg, endpoint)
		},
		WriteEvery:  40 * time.Millisecond,
		ReloadEvery: 30 * time.Millisecond,
		LeaseTTL:    150 * time.Millisecond,
		MaxBackoff:  200 * time.Millisecond,
	}
}

// perCluster builds sources by cluster alone (one endpoint per cluster).
func perCluster(f func(ClusterConfig) (Source, error)) func(ClusterConfig, string) (Source, error) {
	return func(cfg ClusterConfig, _ string) (Source, error) { return f(cfg) }
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
			// Let everything due at this instant finish first: a poll whose
			// timer fires at the instant the test stops would otherwise race
			// the cancel, and be counted by the source but not by the store.
			synctest.Wait()
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

// exporterCfg is a cluster of dcgm-exporter endpoints.
func exporterCfg(id uint, interval time.Duration, endpoints ...string) ClusterConfig {
	return ClusterConfig{ID: id, Name: fmt.Sprintf("cluster-%d", id), Kind: KindExporter, Interval: interval, Endpoints: endpoints}
}

// TestBackoff: the wait from one poll's start to the next one's after a
// number of failures in a row.
func TestBackoff(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		interval time.Duration
		fails    int
		retries  int
		max      time.Duration
		want     time.Duration
	}{
		{15 * s, 0, 3, time.Minute, 15 * s},
		{15 * s, 1, 3, time.Minute, 15 * s}, // an isolated failure: retried at the interval
		{15 * s, 3, 3, time.Minute, 15 * s},
		{15 * s, 4, 3, time.Minute, 30 * s},
		{15 * s, 5, 3, time.Minute, time.Minute},
		{15 * s, 6, 3, time.Minute, time.Minute},
		{15 * s, 500, 3, time.Minute, time.Minute}, // the cap bounds how late a recovery is seen
		{5 * s, 4, 3, time.Minute, 10 * s},
		{5 * s, 7, 3, time.Minute, time.Minute},                 // 5 s × 2⁴ = 80 s, capped at 60 s
		{5 * s, 1, 0, time.Minute, 10 * s},                      // no retries: backs off at once
		{10 * time.Minute, 9, 3, time.Minute, 10 * time.Minute}, // never less than the interval
	} {
		if got := Backoff(tc.interval, tc.fails, tc.retries, tc.max); got != tc.want {
			t.Errorf("Backoff(%s, %d fails, %d retries, %s) = %s, want %s", tc.interval, tc.fails, tc.retries, tc.max, got, tc.want)
		}
	}
}

func TestCollectorDefaults(t *testing.T) {
	c := &Collector{Store: newMemStore()}
	c.defaults()
	if c.WriteEvery != time.Minute || c.LeaseTTL != 3*time.Minute || c.Owner == "" || c.MaxBackoff != time.Minute ||
		c.Retries != 3 || c.FailureHistory != 100 {
		t.Errorf("defaults: write every %s, lease %s, owner %q, max backoff %s, retries %d, history %d",
			c.WriteEvery, c.LeaseTTL, c.Owner, c.MaxBackoff, c.Retries, c.FailureHistory)
	}
	for _, tc := range []struct{ interval, want time.Duration }{
		{time.Second, 800 * time.Millisecond},
		{5 * time.Second, 4 * time.Second},
		{15 * time.Second, 12 * time.Second},
		{10 * time.Minute, time.Minute},
	} {
		l := &clusterLoop{c: c, cfg: ClusterConfig{Interval: tc.interval}}
		if got := l.pollTimeout(); got != tc.want || got >= tc.interval {
			t.Errorf("poll timeout for a %s interval: %s, want %s", tc.interval, got, tc.want)
		}
	}
	c = &Collector{Store: newMemStore(), Retries: -1}
	c.defaults()
	if c.Retries != 0 {
		t.Errorf("negative retries: %d", c.Retries)
	}
}

// TestCollectorHungEndpointKeepsHealthyCoverage: in a 5 s cluster of two
// endpoints, one hangs (answering its cancelled context, or ignoring it);
// the other's GPUs are covered all the time, polled every 5 s.
func TestCollectorHungEndpointKeepsHealthyCoverage(t *testing.T) {
	for _, tc := range []struct {
		name string
		hung func() (Source, func())
	}{
		{"stalled, heeds its context", func() (Source, func()) { return &stallSource{}, func() {} }},
		{"wedged, ignores its context", func() (Source, func()) {
			h := &hangSource{release: make(chan struct{})}
			return h, func() { close(h.release) }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const interval = 5 * time.Second
				cfg := exporterCfg(1, interval, "http://10.0.0.9:9400/metrics", "http://10.0.0.10:9400/metrics")
				store := newMemStore(cfg)
				hung, release := tc.hung()
				defer release()
				healthy := &workSource{cluster: 1, node: "n10"}
				c := &Collector{Store: store, Owner: "solo", Log: quietLog(),
					NewSource: func(_ ClusterConfig, endpoint string, _ func() time.Time) (Source, error) {
						if endpoint == cfg.Endpoints[0] {
							return hung, nil
						}
						return healthy, nil
					}}
				stop := start(t, c)
				began := time.Now()
				// Stop between two polls: a poll at the very instant of
				// the stop may or may not be written, whichever the
				// goroutines happen to run first.
				time.Sleep(30*time.Minute + interval/2)
				stop()
				elapsed := time.Since(began)

				polls := healthy.pollTimes()
				for i := 1; i < len(polls); i++ {
					if gap := polls[i].Sub(polls[i-1]); gap != interval {
						t.Fatalf("healthy endpoint: poll %d came %s after the one before, want %s", i, gap, interval)
					}
				}
				if want := int(elapsed/interval) + 1; len(polls) < want-1 {
					t.Errorf("healthy endpoint polled %d times in %s, want %d", len(polls), elapsed, want)
				}
				covered := polls[len(polls)-1].Sub(polls[0]).Seconds()
				for i := range 2 {
					obs, samples := store.observed(healthy.uuid(i))
					if obs != covered || samples != len(polls) {
						t.Errorf("GPU %d: %v s observed in %d samples, want %v s (all the time it was polled) in %d",
							i, obs, samples, covered, len(polls))
					}
					if coverage := obs / elapsed.Seconds(); coverage < 0.997 {
						t.Errorf("GPU %d: coverage %.4f of the %s run", i, coverage, elapsed)
					}
				}
				ok := store.endpoint(1, cfg.Endpoints[1])
				if ok.State != EndpointOK || ok.GPUsSeen != 2 {
					t.Errorf("healthy endpoint's state %+v", ok)
				}
				bad := store.endpoint(1, cfg.Endpoints[0])
				if bad.State != EndpointBackingOff || bad.Fails < 10 || !strings.Contains(bad.LastError, "timed out after 4s") &&
					!strings.Contains(bad.LastError, "still not returned") {
					t.Errorf("hung endpoint's state %+v", bad)
				}
				if st, _ := store.lastStatus(1); !st.OK || st.GPUsSeen != 2 || !strings.Contains(st.Err, "1 of 2 endpoints failed: http://10.0.0.9:9400/metrics") {
					t.Errorf("cluster status %+v", st)
				}
			})
		})
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
		c := testCollector(store, "solo", perCluster(func(cfg ClusterConfig) (Source, error) {
			if cfg.ID == 1 {
				return hang, nil
			}
			return work, nil
		}))
		stop := start(t, c)

		waitFor(t, "rollups of the working cluster", func() bool {
			n, _ := store.totals(2)
			return n >= 20
		})
		waitFor(t, "an error status for the hung cluster", func() bool {
			st, _ := store.lastStatus(1)
			return strings.Contains(st.Err, "timed out") || strings.Contains(st.Err, "still not returned")
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

// TestCollectorBackoffSchedule: a failing endpoint is retried at the
// interval for the first Retries failures, then ever less often up to
// MaxBackoff; what is stored says so.
func TestCollectorBackoffSchedule(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name     string
		retries  int
		max      time.Duration
		wantGaps []time.Duration
		state    string
	}{
		{"3 retries, cap 80 ms", 3, 80 * ms, []time.Duration{10 * ms, 10 * ms, 10 * ms, 20 * ms, 40 * ms, 80 * ms, 80 * ms, 80 * ms}, EndpointBackingOff},
		{"no retries, cap 40 ms", -1, 40 * ms, []time.Duration{20 * ms, 40 * ms, 40 * ms, 40 * ms}, EndpointBackingOff},
		{"10 retries", 10, 80 * ms, []time.Duration{10 * ms, 10 * ms, 10 * ms, 10 * ms, 10 * ms, 10 * ms, 10 * ms, 10 * ms}, EndpointRetrying},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				store := newMemStore(cfgOf(1, 10*ms))
				src := &workSource{cluster: 1, fail: true}
				c := testCollector(store, "solo", perCluster(func(ClusterConfig) (Source, error) { return src, nil }))
				c.Retries, c.MaxBackoff = tc.retries, tc.max
				stop := start(t, c)
				var total time.Duration
				for _, g := range tc.wantGaps {
					total += g
				}
				time.Sleep(total + 5*ms)
				stop()
				times := src.pollTimes()
				if len(times) != len(tc.wantGaps)+1 {
					t.Fatalf("%d polls, want %d", len(times), len(tc.wantGaps)+1)
				}
				for i, want := range tc.wantGaps {
					if got := times[i+1].Sub(times[i]); got != want {
						t.Errorf("wait after failure %d: %s, want %s", i+1, got, want)
					}
				}
				e := store.endpoint(1, SimulatorEndpoint)
				last := times[len(times)-1]
				retries := max(tc.retries, 0)
				if e.State != tc.state || e.Fails != len(times) || !e.LastAttempt.Equal(last) ||
					!e.NextAttempt.Equal(last.Add(Backoff(10*ms, len(times), retries, tc.max))) || e.LastError != "connection refused" {
					t.Errorf("stored endpoint %+v (last poll at %s)", e, last)
				}
				if st, _ := store.lastStatus(1); st.OK || st.Err != "connection refused" {
					t.Errorf("status %+v", st)
				}
			})
		})
	}
}

// TestCollectorNoticesRecovery: an endpoint that was down for a while
// (long enough to reach the longest wait) is polled again at most
// MaxBackoff after it came back, and shows as collected at once.
func TestCollectorNoticesRecovery(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		down, max time.Duration
	}{
		{1000 * ms, 200 * ms},
		{1013 * ms, 200 * ms},
		{777 * ms, 50 * ms},
		{3 * time.Second, 500 * ms},
		{25 * ms, 200 * ms}, // back within the retries: the next poll at the interval sees it
	} {
		t.Run(fmt.Sprintf("down %s, cap %s", tc.down, tc.max), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				store := newMemStore(cfgOf(1, 10*ms))
				back := time.Now().Add(tc.down)
				src := &workSource{cluster: 1, failUntil: back}
				c := testCollector(store, "solo", perCluster(func(ClusterConfig) (Source, error) { return src, nil }))
				c.MaxBackoff = tc.max
				start(t, c)
				waitFor(t, "a successful poll", func() bool { return src.energy.Load() > 0 })
				var first time.Time
				for _, at := range src.pollTimes() {
					if !at.Before(back) {
						first = at
						break
					}
				}
				bound := tc.max
				if tc.down < 30*ms {
					bound = 10 * ms
				}
				if late := first.Sub(back); late > bound {
					t.Errorf("recovery noticed %s after it happened, want at most %s", late, bound)
				}
				synctest.Wait()
				if e := store.endpoint(1, SimulatorEndpoint); e.State != EndpointOK || e.Fails != 0 || !e.LastSuccess.Equal(first) {
					t.Errorf("endpoint after recovery: %+v", e)
				}
				if st, _ := store.lastStatus(1); !st.OK || st.Err != "" || st.GPUsSeen != 2 {
					t.Errorf("status after recovery: %+v", st)
				}
			})
		})
	}
}

// TestCollectorFailureHistory: each failure is stored with its time,
// endpoint and error, the last FailureHistory of the cluster kept, and the
// polls and failures counted per endpoint.
func TestCollectorFailureHistory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := time.Millisecond
		cfg := exporterCfg(1, 10*ms, "http://a:9400/metrics", "http://b:9400/metrics")
		store := newMemStore(cfg)
		a := &workSource{cluster: 1, node: "a", failUntil: time.Now().Add(55 * ms)}
		b := &workSource{cluster: 1, node: "b"}
		c := testCollector(store, "solo", func(_ ClusterConfig, endpoint string) (Source, error) {
			if strings.Contains(endpoint, "//a") {
				return a, nil
			}
			return b, nil
		})
		c.FailureHistory = 4
		stop := start(t, c)
		time.Sleep(200 * ms)
		stop()
		// a failed at 0, 10, 20 (retries), 30 and 50 ms (backing off), then answered at 90 ms.
		fs := store.storedFailures(1)
		if len(fs) != 4 {
			t.Fatalf("%d failures kept, want the last 4: %+v", len(fs), fs)
		}
		t0 := a.pollTimes()[0]
		for i, want := range []time.Duration{10 * ms, 20 * ms, 30 * ms, 50 * ms} {
			f := fs[i]
			if !f.At.Equal(t0.Add(want)) || f.Endpoint != "http://a:9400/metrics" || f.Err != "connection refused" || f.Fails != i+2 {
				t.Errorf("failure %d: %+v, want at +%s, failure %d in a row", i, f, want, i+2)
			}
		}
		polls, failures := store.pollCounts(1, "http://a:9400/metrics")
		if failures != 5 || polls != len(a.pollTimes()) {
			t.Errorf("endpoint a: %d polls, %d failures counted; polled %d times", polls, failures, len(a.pollTimes()))
		}
		polls, failures = store.pollCounts(1, "http://b:9400/metrics")
		if failures != 0 || polls != len(b.pollTimes()) || polls < 20 {
			t.Errorf("endpoint b: %d polls, %d failures counted; polled %d times", polls, failures, len(b.pollTimes()))
		}
		if e := store.endpoint(1, "http://a:9400/metrics"); e.State != EndpointOK || e.LastError != "connection refused" ||
			!e.LastErrorAt.Equal(t0.Add(50*ms)) {
			t.Errorf("endpoint a after recovery: %+v", e)
		}
	})
}

// recordingObserver keeps what the collector told it.
type recordingObserver struct {
	mu                sync.Mutex
	polls, pollErrors map[string]int
	samples           int
	writes            int
	lags              []time.Duration
	forgotten         []string
}

func (o *recordingObserver) Polled(cluster, endpoint string, _ time.Duration, samples, _ int, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.polls[cluster+" "+endpoint]++
	if err != nil {
		o.pollErrors[cluster+" "+endpoint]++
	}
	o.samples += samples
}

func (o *recordingObserver) Endpoint(string, EndpointStatus) {}

func (o *recordingObserver) Wrote(_ string, _ int, _, lag time.Duration, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if err == nil {
		o.writes++
		o.lags = append(o.lags, lag)
	}
}

func (o *recordingObserver) Forget(cluster string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.forgotten = append(o.forgotten, cluster)
}

// TestCollectorObserver: polls, their errors, samples, writes and their lag
// reach the observer; a removed cluster is forgotten.
func TestCollectorObserver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ms := time.Millisecond
		store := newMemStore(cfgOf(1, 10*ms), cfgOf(2, 10*ms))
		obs := &recordingObserver{polls: map[string]int{}, pollErrors: map[string]int{}}
		good, bad := &workSource{cluster: 1}, &workSource{cluster: 2, fail: true}
		c := testCollector(store, "solo", perCluster(func(cfg ClusterConfig) (Source, error) {
			if cfg.ID == 1 {
				return good, nil
			}
			return bad, nil
		}))
		c.Observer = obs
		stop := start(t, c)
		time.Sleep(200 * ms)
		store.setClusters(cfgOf(1, 10*ms))
		waitFor(t, "cluster 2 forgotten", func() bool {
			obs.mu.Lock()
			defer obs.mu.Unlock()
			return slices.Contains(obs.forgotten, "cluster-2")
		})
		stop()
		obs.mu.Lock()
		defer obs.mu.Unlock()
		if n := obs.polls["cluster-1 simulator"]; n != int(good.polls.Load()) || obs.pollErrors["cluster-1 simulator"] != 0 {
			t.Errorf("cluster 1: %d polls, %d errors observed; polled %d times", n, obs.pollErrors["cluster-1 simulator"], good.polls.Load())
		}
		if n := obs.polls["cluster-2 simulator"]; n != int(bad.polls.Load()) || obs.pollErrors["cluster-2 simulator"] != n {
			t.Errorf("cluster 2: %d polls, %d errors observed; polled %d times", n, obs.pollErrors["cluster-2 simulator"], bad.polls.Load())
		}
		if obs.samples != 2*int(good.polls.Load()) {
			t.Errorf("%d samples observed for %d polls of 2 GPUs", obs.samples, good.polls.Load())
		}
		if obs.writes < 4 || len(obs.lags) != obs.writes {
			t.Fatalf("%d writes observed", obs.writes)
		}
		for _, lag := range obs.lags {
			// The oldest new sample at a write every 40 ms is at most 40 ms old.
			if lag < 0 || lag > 40*ms {
				t.Errorf("write lag %s", lag)
			}
		}
		if obs.lags[0] != 40*ms {
			t.Errorf("first write's lag %s, want 40ms: the first sample was taken at the start", obs.lags[0])
		}
	})
}

// TestMetrics: the Prometheus observer's series.
func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.Polled("b200", "http://a/metrics", 300*time.Millisecond, 8, 1, nil)
	m.Polled("b200", "http://b/metrics", 4*time.Second, 0, 0, errors.New("poll timed out after 4s"))
	m.Endpoint("b200", EndpointStatus{Endpoint: "http://b/metrics", State: EndpointBackingOff, Fails: 5})
	m.Wrote("b200", 16, 20*time.Millisecond, 61*time.Second, nil)
	var out strings.Builder
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if _, err := expfmt.MetricFamilyToText(&out, mf); err != nil {
			t.Fatal(err)
		}
	}
	text := out.String()
	for _, want := range []string{
		`portal_collector_scrapes_total{cluster="b200",endpoint="http://b/metrics"} 1`,
		`portal_collector_scrape_errors_total{cluster="b200",endpoint="http://b/metrics"} 1`,
		`portal_collector_scrape_errors_total{cluster="b200",endpoint="http://a/metrics"} 0`,
		`portal_collector_samples_total{cluster="b200"} 8`,
		`portal_collector_skipped_values_total{cluster="b200"} 1`,
		`portal_collector_endpoint_consecutive_failures{cluster="b200",endpoint="http://b/metrics"} 5`,
		`portal_collector_endpoint_up{cluster="b200",endpoint="http://b/metrics"} 0`,
		`portal_collector_write_lag_seconds{cluster="b200"} 61`,
		`portal_collector_rows_written_total{cluster="b200"} 16`,
		`portal_collector_scrape_duration_seconds_sum{cluster="b200",endpoint="http://b/metrics"} 4`,
		`portal_collector_scrape_duration_seconds_bucket{cluster="b200",endpoint="http://b/metrics",le="2.5"} 0`,
		`portal_collector_scrape_duration_seconds_bucket{cluster="b200",endpoint="http://b/metrics",le="5"} 1`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("no %s in\n%s", want, text)
		}
	}
	m.Forget("b200")
	if mfs, _ := reg.Gather(); len(mfs) != 0 {
		t.Errorf("series left after Forget: %d families", len(mfs))
	}
}

// TestCollectorSourceErrorIsStatus: a source that cannot be built (no
// endpoint, no library) is a status, not a crash.
func TestCollectorSourceErrorIsStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore(cfgOf(1, 10*time.Millisecond))
		c := testCollector(store, "solo", perCluster(func(ClusterConfig) (Source, error) { return nil, ErrNoLibrary }))
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
		a := testCollector(store, "alpha", perCluster(func(ClusterConfig) (Source, error) { return srcA, nil }))
		b := testCollector(store, "beta", perCluster(func(ClusterConfig) (Source, error) { return srcB, nil }))
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

// TestCollectorLeaseLost: a collector whose lease was taken stops polling
// and closes its sources.
func TestCollectorLeaseLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore(cfgOf(1, 10*time.Millisecond))
		src := &workSource{cluster: 1}
		start(t, testCollector(store, "alpha", perCluster(func(ClusterConfig) (Source, error) { return src, nil })))
		waitFor(t, "polls", func() bool { return src.polls.Load() > 3 })
		store.mu.Lock()
		store.leases[1] = memLease{"beta", time.Now().Add(time.Hour)}
		store.mu.Unlock()
		waitFor(t, "the source closed", func() bool { return src.closed.Load() })
		n := src.polls.Load()
		time.Sleep(200 * time.Millisecond)
		if m := src.polls.Load(); m != n {
			t.Errorf("polled %d more times after losing the lease", m-n)
		}
	})
}

// TestCollectorRestartKeepsTheHour: a collector restarted mid-hour adds to
// what the previous run stored instead of writing over it.
func TestCollectorRestartKeepsTheHour(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore(cfgOf(1, 10*time.Millisecond))
		first := &workSource{cluster: 1}
		stop := start(t, testCollector(store, "run-1", perCluster(func(ClusterConfig) (Source, error) { return first, nil })))
		waitFor(t, "the first run's rollups", func() bool { n, _ := store.totals(1); return n >= 20 })
		stop()
		s1, o1 := store.totals(1)
		if polls := first.polls.Load(); int64(s1) != 2*polls {
			t.Errorf("first run: %d samples stored of %d polls × 2 GPUs", s1, polls)
		}

		second := &workSource{cluster: 1}
		stop = start(t, testCollector(store, "run-2", perCluster(func(ClusterConfig) (Source, error) { return second, nil })))
		waitFor(t, "the second run's rollups", func() bool { n, _ := store.totals(1); return n >= s1+20 })
		stop()
		s2, o2 := store.totals(1)
		polls := second.polls.Load()
		if int64(s2-s1) != 2*polls {
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
		stop := start(t, testCollector(store, "solo", perCluster(func(ClusterConfig) (Source, error) { return src, nil })))
		waitFor(t, "rollups after the outage", func() bool { n, _ := store.totals(1); return n >= 20 })
		stop()
		n, _ := store.totals(1)
		if polls := src.polls.Load(); int64(n) != 2*polls {
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
		c := testCollector(store, "solo", perCluster(func(cfg ClusterConfig) (Source, error) {
			mu.Lock()
			defer mu.Unlock()
			s := &workSource{cluster: cfg.ID}
			made[cfg.ID] = append(made[cfg.ID], s)
			return s, nil
		}))
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

	// A cluster one of whose two endpoints fails is collected, and shows the error.
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore(exporterCfg(1, 10*time.Millisecond, "http://a/metrics", "http://b/metrics"))
		c := testCollector(store, "solo", func(_ ClusterConfig, endpoint string) (Source, error) {
			if endpoint == "http://b/metrics" {
				return &workSource{cluster: 1, fail: true}, nil
			}
			return &workSource{cluster: 1}, nil
		})
		start(t, c)
		waitFor(t, "a partial status", func() bool {
			st, _ := store.lastStatus(1)
			return st.OK && st.Err == "1 of 2 endpoints failed: http://b/metrics: connection refused" && st.GPUsSeen == 2
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

// connectSource takes 10 s to answer its first poll, as nv-hostengine's
// reader does while it starts and connects; it says so when it has
// Connected.
type connectSource struct {
	workSource
	connected atomic.Bool
}

func (s *connectSource) connect(ctx context.Context) error {
	if s.connected.Load() {
		return nil
	}
	select {
	case <-time.After(10 * time.Second):
		s.connected.Store(true)
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *connectSource) Poll(ctx context.Context) (Poll, error) {
	if err := s.connect(ctx); err != nil {
		return Poll{}, err
	}
	return s.workSource.Poll(ctx)
}

// reporting adds Connected to a connectSource.
type reporting struct{ *connectSource }

func (s reporting) Connected() bool { return s.connected.Load() }

// TestCollectorConnectAllowance: in a 1 s cluster, a source that reports it
// must connect first gets ConnectTimeout for that poll, then the normal
// timeout; one that does not say so times out at 4/5 of the interval.
func TestCollectorConnectAllowance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := exporterCfg(1, time.Second, "http://a/metrics")
		store := newMemStore(cfg)
		src := &connectSource{workSource: workSource{cluster: 1}}
		c := testCollector(store, "solo", func(ClusterConfig, string) (Source, error) { return reporting{src}, nil })
		c.PollTimeout = 0 // the default: 4/5 of the interval
		start(t, c)
		began := time.Now()
		time.Sleep(15 * time.Second)
		polls := src.pollTimes()
		if len(polls) == 0 || polls[0].Sub(began) != 10*time.Second {
			t.Fatalf("first samples at %v, want 10s after the start (the connection)", polls)
		}
		if e := store.endpoint(1, "http://a/metrics"); e.State != EndpointOK || e.Fails != 0 {
			t.Errorf("endpoint %+v", e)
		}
		if len(polls) < 5 || polls[len(polls)-1].Sub(polls[len(polls)-2]) != time.Second {
			t.Errorf("after connecting: polls at %v", polls)
		}
	})
	synctest.Test(t, func(t *testing.T) {
		store := newMemStore(exporterCfg(1, time.Second, "http://a/metrics"))
		src := &connectSource{workSource: workSource{cluster: 1}}
		c := testCollector(store, "solo", func(ClusterConfig, string) (Source, error) { return src, nil })
		c.PollTimeout = 0
		start(t, c)
		waitFor(t, "a failure", func() bool { return store.endpoint(1, "http://a/metrics").Fails > 0 })
		if e := store.endpoint(1, "http://a/metrics"); e.LastError != "poll timed out after 800ms" {
			t.Errorf("endpoint %+v", e)
		}
	})
}

// TestCollectorSimulatedHungNode: a simulated 5 s cluster with a
// dcgm-exporter per node, one of them hung (heeding its context or not).
// The healthy node's GPUs, a MIG GPU among them, keep full coverage of the
// run and none is counted over 100 %; the hung node's GPUs have none.
func TestCollectorSimulatedHungNode(t *testing.T) {
	t.Parallel()
	for _, ignores := range []bool{false, true} {
		t.Run(fmt.Sprintf("ignores its context %v", ignores), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const interval = 5 * time.Second
				cfg := exporterCfg(1, interval, "http://gn001:9400/metrics", "http://gn002:9400/metrics")
				store := newMemStore(cfg)
				sim := NewSimulator(SimConfig{Seed: 9, Cluster: "c1", Nodes: 2, GPUsPerNode: 2, MIGPerNode: 1,
					Profiles: SimProfiles{Busy: 1}, BlankRate: -1, HungNodes: []int{0}, HangIgnoresContext: ignores,
					Interval: interval, Now: time.Now})
				hung := sim.NodeSource(0)
				defer hung.Close()
				c := &Collector{Store: store, Owner: "solo", Log: quietLog(),
					NewSource: func(_ ClusterConfig, endpoint string, _ func() time.Time) (Source, error) {
						if endpoint == cfg.Endpoints[0] {
							return hung, nil
						}
						return sim.NodeSource(1), nil
					}}
				stop := start(t, c)
				began := time.Now()
				// Stop between two polls: a poll at the very instant of
				// the stop may or may not be written, whichever the
				// goroutines happen to run first.
				time.Sleep(30*time.Minute + interval/2)
				stop()
				elapsed := time.Since(began).Seconds()

				for _, g := range sim.GPUs() {
					obs, _ := store.observed(g.UUID)
					coverage := obs / elapsed
					switch {
					case g.Node == sim.NodeName(0) && obs != 0:
						t.Errorf("hung node's GPU %s: %v s observed", g.UUID, obs)
					case g.Node == sim.NodeName(1) && (coverage < 0.997 || coverage > 1):
						t.Errorf("healthy node's GPU %d: coverage %.4f of the %v s run", g.Index, coverage, elapsed)
					}
				}
				if ok := store.endpoint(1, cfg.Endpoints[1]); ok.State != EndpointOK || ok.GPUsSeen != 2 {
					t.Errorf("healthy endpoint's state %+v", ok)
				}
				if bad := store.endpoint(1, cfg.Endpoints[0]); bad.State != EndpointBackingOff || bad.Fails < 10 {
					t.Errorf("hung endpoint's state %+v", bad)
				}
			})
		})
	}
}
