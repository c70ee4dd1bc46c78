package dcgm

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// The collector: one loop per cluster holds the cluster's lease, folds the
// samples into hourly rollups in memory and writes the hours' totals to the
// store every minute. Each endpoint of the cluster (a dcgm-exporter URL, an
// nv-hostengine address, the simulator) is polled by a poller of its own, on
// its own schedule and with its own timeout, shorter than the interval: a
// slow or dead endpoint never delays another's samples, in its cluster or
// elsewhere. Gaps are never filled in: the Folder counts only the time the
// samples cover.
//
// A failing endpoint is retried at the normal interval for its first
// Retries failures in a row (one lost scrape costs no coverage: a sample
// covers up to two intervals), then less and less often, never more than
// MaxBackoff apart: an endpoint that comes back is polled again at most
// max(MaxBackoff, interval) after it came back, and counted from that poll
// on (see Backoff). Every failure is reported to the store with its time,
// endpoint and error, with each endpoint's state and hourly poll and failure
// counts.
//
// With several portal instances on one database, a cluster belongs to the
// collector that holds its lease; the others leave it alone until the lease
// expires (a crashed owner) or is released (a stopped one).

// Cluster source kinds, as clusters are registered.
const (
	KindExporter   = "exporter"
	KindHostengine = "hostengine"
	KindSimulator  = "simulator"
)

// SimulatorEndpoint names the one endpoint of a simulated cluster.
const SimulatorEndpoint = "simulator"

// ClusterConfig is a cluster as the collector needs it.
type ClusterConfig struct {
	ID            uint
	Name          string
	Kind          string   // KindExporter, KindHostengine or KindSimulator
	Endpoints     []string // dcgm-exporter URLs or nv-hostengine addresses
	Interval      time.Duration
	BearerToken   string
	TLSSkipVerify bool
	Seed          int64 // simulator
	GPUModel      string
	GPUCount      int
}

// equal reports whether two configs would poll the same way.
func (c ClusterConfig) equal(o ClusterConfig) bool {
	return c.ID == o.ID && c.Name == o.Name && c.Kind == o.Kind && slices.Equal(c.Endpoints, o.Endpoints) &&
		c.Interval == o.Interval && c.BearerToken == o.BearerToken && c.TLSSkipVerify == o.TLSSkipVerify &&
		c.Seed == o.Seed && c.GPUModel == o.GPUModel && c.GPUCount == o.GPUCount
}

// PolledEndpoints lists what a cluster's loop polls, each endpoint on its
// own schedule: the dcgm-exporter URLs or nv-hostengine addresses, or
// SimulatorEndpoint. A cluster registered without endpoints has one blank
// one, whose source cannot be built: it shows as failing.
func PolledEndpoints(cfg ClusterConfig) []string {
	if cfg.Kind == KindSimulator {
		return []string{SimulatorEndpoint}
	}
	if len(cfg.Endpoints) == 0 {
		return []string{""}
	}
	return slices.Clone(cfg.Endpoints)
}

// Status sums a cluster's endpoints up, as the collector reports it. A
// cluster some of whose endpoints answered and some did not is OK with an Err.
type Status struct {
	At       time.Time
	OK       bool
	Err      string
	GPUsSeen int
}

// Endpoint states, as EndpointStatus.State gives them.
const (
	EndpointWaiting    = "waiting"     // not polled yet
	EndpointOK         = "ok"          // the last poll succeeded
	EndpointRetrying   = "retrying"    // failing, retried at the normal interval
	EndpointBackingOff = "backing_off" // failing for longer: retried less often, at most MaxBackoff apart
)

// EndpointStatus is the collector's view of one endpoint of a cluster.
type EndpointStatus struct {
	Endpoint    string
	State       string // EndpointWaiting, EndpointOK, EndpointRetrying or EndpointBackingOff
	Fails       int    // failed polls in a row
	GPUsSeen    int    // GPUs in the last successful poll
	LastAttempt time.Time
	LastSuccess time.Time
	LastError   string
	LastErrorAt time.Time
	NextAttempt time.Time // when the endpoint is polled next
}

// Failure is one failed poll of an endpoint.
type Failure struct {
	At       time.Time
	Endpoint string
	Err      string
	Fails    int // failed polls in a row, this one included
}

// PollCount is how many polls of an endpoint started in one clock hour (UTC)
// and how many of them failed.
type PollCount struct {
	Endpoint string
	Hour     time.Time
	Polls    int
	Failures int
}

// Health is what a cluster's loop reports about its endpoints: each one's
// state, the failures and the poll counts since the last report (counts add
// to the stored ones), at At. The store keeps the last Keep failures of the
// cluster.
type Health struct {
	At        time.Time
	Endpoints []EndpointStatus
	Failures  []Failure
	Counts    []PollCount
	Keep      int
}

// Store is what the collector needs of the database.
type Store interface {
	// Clusters lists the clusters to collect from.
	Clusters(ctx context.Context) ([]ClusterConfig, error)
	// AcquireLease takes or renews the lease of a cluster for owner until
	// now+ttl; false while another owner's lease runs.
	AcquireLease(ctx context.Context, clusterID uint, owner string, ttl time.Duration, now time.Time) (bool, error)
	// ReleaseLease gives the lease up, if owner holds it.
	ReleaseLease(ctx context.Context, clusterID uint, owner string) error
	// StoredRollups returns the stored rollups of a cluster's devices for
	// the hours from since on.
	StoredRollups(ctx context.Context, clusterID uint, since time.Time) ([]Rollup, error)
	// UpsertRollups stores the rollups, replacing stored ones of the same
	// device and hour: they carry the hour's whole totals.
	UpsertRollups(ctx context.Context, clusterID uint, rs []Rollup, now time.Time) error
	// RecordStatus stores the cluster's status.
	RecordStatus(ctx context.Context, clusterID uint, s Status) error
	// RecordGPUs records the GPUs seen on the cluster.
	RecordGPUs(ctx context.Context, clusterID uint, gpus []GPUInfo, at time.Time) error
	// RecordHealth stores the state of the cluster's endpoints (forgetting
	// endpoints not listed), adds the failures (keeping the cluster's last
	// h.Keep) and adds the poll counts to the stored ones. It also says
	// that a collector is at work on the cluster at h.At.
	RecordHealth(ctx context.Context, clusterID uint, h Health) error
}

// Observer is told what the collector does, for metrics. Its methods are
// called from the clusters' loops, concurrently for different clusters.
type Observer interface {
	// Polled: a poll of an endpoint ended after took, with its samples and
	// skipped values, and err (nil for a success).
	Polled(cluster, endpoint string, took time.Duration, samples, skipped int, err error)
	// Endpoint: an endpoint's state after a poll.
	Endpoint(cluster string, s EndpointStatus)
	// Wrote: a write of a cluster's rollups of rows rows took took; lag is
	// how long the oldest sample in it waited since it was taken (0 when it
	// had none). err is nil for a success.
	Wrote(cluster string, rows int, took, lag time.Duration, err error)
	// Forget: the cluster's loop stopped (removed or changed): its series go.
	Forget(cluster string)
}

// Collector polls every cluster the store lists. Set the fields, then Run.
type Collector struct {
	Store Store
	Log   *slog.Logger // default slog.Default()
	// Owner names this collector in cluster leases (default host-pid-random).
	Owner string
	// Now is the clock (default time.Now). The loops' timers and tickers
	// come from package time, which tests run on a fake clock that they
	// drive (testing/synctest).
	Now func() time.Time
	// NewSource builds the source of one of a cluster's endpoints (default
	// EndpointSource).
	NewSource func(cfg ClusterConfig, endpoint string, now func() time.Time) (Source, error)
	// Observer, if set, is told of every poll and write (metrics).
	Observer Observer
	// WriteEvery is how often rollups are written and the leases renewed
	// (default 1 min): a crash loses at most this much telemetry.
	WriteEvery time.Duration
	// ReloadEvery is how often the list of clusters is read again (default 1 min).
	ReloadEvery time.Duration
	// LeaseTTL is how long a lease lasts unrenewed (default 3 × WriteEvery).
	LeaseTTL time.Duration
	// PollTimeout caps the timeout of one poll (default 60 s), which is
	// otherwise four fifths of the cluster's interval, so that the next poll
	// starts on time. A source that must connect first (nv-hostengine
	// starting its reader) gets up to ConnectTimeout for that poll.
	PollTimeout time.Duration
	// Retries is how many failed polls in a row an endpoint is retried at
	// its normal interval before backing off (default 3; negative: 0).
	Retries int
	// MaxBackoff caps the wait between two polls of a failing endpoint
	// (default 1 min, never less than the interval): an endpoint that comes
	// back is polled again within this time.
	MaxBackoff time.Duration
	// FailureHistory is how many failures the store keeps per cluster (default 100).
	FailureHistory int
	// FinalWriteTimeout bounds the last write when the collector stops (default 10 s).
	FinalWriteTimeout time.Duration
}

// ConnectTimeout is how long the poll of a source that must connect first
// may take: nv-hostengine's default reader start timeout.
const ConnectTimeout = 30 * time.Second

// DefaultRetries and DefaultMaxBackoff are the failure policy's defaults.
const (
	DefaultRetries    = 3
	DefaultMaxBackoff = time.Minute
)

func (c *Collector) defaults() {
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Owner == "" {
		c.Owner = DefaultOwner()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.NewSource == nil {
		c.NewSource = EndpointSource
	}
	if c.WriteEvery <= 0 {
		c.WriteEvery = time.Minute
	}
	if c.ReloadEvery <= 0 {
		c.ReloadEvery = time.Minute
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = 3 * c.WriteEvery
	}
	if c.PollTimeout <= 0 {
		c.PollTimeout = time.Minute
	}
	if c.Retries == 0 {
		c.Retries = DefaultRetries
	} else if c.Retries < 0 {
		c.Retries = 0
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.FailureHistory <= 0 {
		c.FailureHistory = 100
	}
	if c.FinalWriteTimeout <= 0 {
		c.FinalWriteTimeout = 10 * time.Second
	}
}

// DefaultOwner names a collector process: host, process id and a random suffix.
func DefaultOwner() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}

// Run collects until ctx ends, then writes what it holds, gives up its
// leases and returns. It returns an error only if it cannot start.
func (c *Collector) Run(ctx context.Context) error {
	if c.Store == nil {
		return errors.New("collector: no store")
	}
	c.defaults()
	type running struct {
		cfg    ClusterConfig
		cancel context.CancelFunc
		done   chan struct{}
	}
	loops := map[uint]*running{}
	stop := func(r *running) {
		r.cancel()
		<-r.done
		if c.Observer != nil {
			c.Observer.Forget(r.cfg.Name)
		}
	}
	defer func() {
		for _, r := range loops {
			r.cancel()
		}
		for _, r := range loops {
			<-r.done
		}
	}()
	reload := func() {
		cfgs, err := c.Store.Clusters(ctx)
		if err != nil {
			if ctx.Err() == nil {
				c.Log.Error("collector: list clusters", "err", err)
			}
			return
		}
		want := map[uint]bool{}
		for _, cfg := range cfgs {
			want[cfg.ID] = true
			if r, ok := loops[cfg.ID]; ok {
				if r.cfg.equal(cfg) {
					continue
				}
				c.Log.Info("collector: cluster changed, restarting its loop", "cluster", cfg.Name)
				stop(r)
			}
			lctx, cancel := context.WithCancel(ctx)
			r := &running{cfg: cfg, cancel: cancel, done: make(chan struct{})}
			loops[cfg.ID] = r
			go func() {
				defer close(r.done)
				c.loop(lctx, cfg)
			}()
		}
		for id, r := range loops {
			if !want[id] {
				c.Log.Info("collector: cluster removed, stopping its loop", "cluster", r.cfg.Name)
				stop(r)
				delete(loops, id)
			}
		}
	}
	c.Log.Info("collector started", "owner", c.Owner, "write_every", c.WriteEvery,
		"retries", c.Retries, "max_backoff", c.MaxBackoff)
	reload()
	t := time.NewTicker(c.ReloadEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			c.Log.Info("collector stopping")
			return nil
		case <-t.C:
			reload()
		}
	}
}

// Backoff is the wait between the start of a poll and the start of the next
// one after fails failed polls in a row: the interval for the first retries
// failures, then the interval doubled for each failure beyond them, never
// more than max (nor less than the interval).
//
// So a poll of an endpoint that has come back starts at most
// max(max, interval) after it came back.
func Backoff(interval time.Duration, fails, retries int, max time.Duration) time.Duration {
	d := interval
	for i := retries; i < fails && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	if d < interval {
		d = interval
	}
	return d
}

// pollResult is what a poll goroutine hands back.
type pollResult struct {
	poll Poll
	err  error
}

// attempt is one poll of an endpoint, as its poller reports it.
type attempt struct {
	index int // of the endpoint in the loop's list
	at    time.Time
	took  time.Duration
	poll  Poll
	err   error // the poll failed: no samples
	fails int   // failed polls in a row, this one included
	next  time.Time
}

// clusterLoop is the state of one cluster's loop.
type clusterLoop struct {
	c     *Collector
	cfg   ClusterConfig
	log   *slog.Logger
	owned bool

	// The pollers run while the cluster is owned.
	results     chan attempt
	stopPollers context.CancelFunc
	pollers     sync.WaitGroup

	fold     *Folder
	unsent   []Rollup  // finished hours whose write failed: written again next time
	oldest   time.Time // the oldest sample folded since the last write (zero: none)
	status   Status
	statusOK bool // status was written since it last changed
	devices  map[string]GPUInfo

	endpoints []EndpointStatus
	seen      []map[string]bool // per endpoint, the GPUs of its last successful poll
	failures  []Failure         // not yet stored
	counts    map[countKey]*PollCount
}

type countKey struct {
	endpoint int
	hour     int64
}

// pollTimeout is the timeout of one poll of the cluster: shorter than the
// interval, so that a poll that times out does not delay the next.
func (l *clusterLoop) pollTimeout() time.Duration {
	return min(l.cfg.Interval*4/5, l.c.PollTimeout)
}

// stopGrace is how long a stopping poller waits for the poll in flight to
// answer its cancelled context before leaving it behind.
const stopGrace = 200 * time.Millisecond

func (c *Collector) loop(ctx context.Context, cfg ClusterConfig) {
	if cfg.Interval <= 0 {
		cfg.Interval = 15 * time.Second
	}
	l := &clusterLoop{c: c, cfg: cfg, log: c.Log.With("cluster", cfg.Name, "cluster_id", cfg.ID),
		counts: map[countKey]*PollCount{}}
	for _, e := range PolledEndpoints(cfg) {
		l.endpoints = append(l.endpoints, EndpointStatus{Endpoint: e, State: EndpointWaiting})
		l.seen = append(l.seen, nil)
	}

	write := time.NewTicker(c.WriteEvery)
	defer write.Stop()
	l.lease(ctx)

	for {
		select {
		case <-ctx.Done():
			// Polls in flight are cancelled; what they brought is folded in
			// before the last write.
			fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), c.FinalWriteTimeout)
			l.halt(fctx, true)
			if l.owned {
				l.write(fctx)
				if err := c.Store.ReleaseLease(fctx, cfg.ID, c.Owner); err != nil {
					l.log.Warn("collector: release lease", "err", err)
				}
			}
			fcancel()
			return

		case a := <-l.results:
			if l.owned {
				l.received(ctx, a)
			}

		case <-write.C:
			l.lease(ctx)
			if l.owned {
				l.write(ctx)
			}
		}
	}
}

// start runs a poller per endpoint.
func (l *clusterLoop) start(ctx context.Context) {
	pctx, cancel := context.WithCancel(ctx)
	l.stopPollers = cancel
	// Room for a few results per endpoint: a poller does not wait for a
	// slow write of the loop before it polls again.
	l.results = make(chan attempt, 4*len(l.endpoints))
	for i, e := range l.endpoints {
		p := &poller{l: l, index: i, endpoint: e.Endpoint}
		l.pollers.Go(func() { p.run(pctx, l.results) })
	}
}

// halt stops the pollers and waits for them; with keep, the results they
// left are taken in, otherwise dropped.
func (l *clusterLoop) halt(ctx context.Context, keep bool) {
	if l.stopPollers == nil {
		return
	}
	l.stopPollers()
	l.pollers.Wait()
	l.stopPollers = nil
	for drained := false; !drained; {
		select {
		case a := <-l.results:
			if keep && l.owned {
				l.received(ctx, a)
			}
		default:
			drained = true
		}
	}
	l.results = nil
}

// poller polls one endpoint on its own schedule.
type poller struct {
	l        *clusterLoop // read only: its config and collector
	index    int
	endpoint string
	src      Source
	inflight chan pollResult // a poll left behind after its timeout that has not answered yet
	fails    int
}

func (p *poller) run(ctx context.Context, out chan<- attempt) {
	defer p.close()
	c, cfg := p.l.c, p.l.cfg
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		began := time.Now()
		a := attempt{index: p.index, at: c.Now()}
		a.poll, a.err = p.poll(ctx)
		a.took = time.Since(began)
		if a.err != nil && ctx.Err() != nil {
			return // stopping: the poll was cut short, it did not fail
		}
		if a.err != nil && len(a.poll.Samples) == 0 {
			p.fails++
		} else {
			a.err, p.fails = nil, 0
		}
		a.fails = p.fails
		wait := Backoff(cfg.Interval, p.fails, c.Retries, c.MaxBackoff)
		a.next = a.at.Add(wait)
		select {
		case out <- a:
		default:
			select {
			case out <- a:
			case <-ctx.Done():
				return
			}
		}
		timer.Reset(max(0, wait-time.Since(began)))
	}
}

// poll polls the endpoint once, within the timeout; a poll that overruns
// it is left behind, and no other starts until it has answered.
func (p *poller) poll(ctx context.Context) (Poll, error) {
	if p.inflight != nil {
		select {
		case <-p.inflight:
			p.inflight = nil
		default:
			return Poll{}, errors.New("the previous poll has still not returned; source not answering")
		}
	}
	if p.src == nil {
		src, err := p.l.c.NewSource(p.l.cfg, p.endpoint, p.l.c.Now)
		if err != nil {
			return Poll{}, err
		}
		p.src = src
	}
	timeout := p.l.pollTimeout()
	if cs, ok := p.src.(interface{ Connected() bool }); ok && !cs.Connected() {
		timeout = max(timeout, ConnectTimeout)
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ch := make(chan pollResult, 1)
	go func(src Source) {
		p, err := src.Poll(pctx)
		ch <- pollResult{p, err}
	}(p.src)
	timedOut := fmt.Errorf("poll timed out after %s", timeout)
	select {
	case r := <-ch:
		if r.err != nil && ctx.Err() == nil && pctx.Err() != nil {
			return r.poll, timedOut
		}
		return r.poll, r.err
	case <-pctx.Done():
		select {
		case r := <-ch:
			if r.err == nil || len(r.poll.Samples) > 0 {
				return r.poll, r.err
			}
		default:
			p.inflight = ch
		}
		if ctx.Err() != nil {
			return Poll{}, ctx.Err()
		}
		return Poll{}, timedOut
	}
}

// close closes the source. A poll still in flight that heeds its cancelled
// context answers at once; one that ignores it must not hold up the stop, so
// its source is closed when it answers.
func (p *poller) close() {
	if p.src == nil {
		return
	}
	src, inflight := p.src, p.inflight
	p.src, p.inflight = nil, nil
	if inflight != nil {
		select {
		case <-inflight:
		case <-time.After(stopGrace):
			go func() {
				<-inflight
				closeSource(p.l.log, src)
			}()
			return
		}
	}
	closeSource(p.l.log, src)
}

func closeSource(log *slog.Logger, src Source) {
	if err := src.Close(); err != nil {
		log.Warn("collector: close source", "err", err)
	}
}

// lease takes or renews the cluster's lease, starting afresh when the
// cluster was just taken over and dropping what is held when it was lost.
func (l *clusterLoop) lease(ctx context.Context) {
	ok, err := l.c.Store.AcquireLease(ctx, l.cfg.ID, l.c.Owner, l.c.LeaseTTL, l.c.Now())
	if err != nil {
		if ctx.Err() == nil {
			l.log.Error("collector: lease", "err", err)
		}
		return // keep the current state: a database hiccup is not a lost lease
	}
	switch {
	case ok && !l.owned:
		// Start from what is stored for the hours still open: the totals
		// written from here on add this collector's samples to them, so a
		// restart or a takeover loses only the time nobody was polling.
		// Hours before the cut are final: late samples for them are ignored
		// rather than written over the stored totals.
		fold := NewFolder(FolderConfig{Interval: sampleEvery(l.cfg)})
		cut := l.flushCut(l.c.Now())
		fold.Flush(cut)
		stored, err := l.c.Store.StoredRollups(ctx, l.cfg.ID, cut)
		if err != nil {
			l.log.Error("collector: load stored rollups", "err", err)
			_ = l.c.Store.ReleaseLease(ctx, l.cfg.ID, l.c.Owner)
			return
		}
		for _, r := range stored {
			fold.Restore(r)
		}
		l.fold, l.unsent, l.devices, l.owned, l.oldest = fold, nil, map[string]GPUInfo{}, true, time.Time{}
		l.log.Info("collector: cluster taken", "owner", l.c.Owner, "stored_rollups", len(stored))
		l.start(ctx)
	case !ok && l.owned:
		l.log.Warn("collector: lease lost to another collector; dropping unwritten telemetry")
		l.halt(ctx, false)
		l.owned, l.fold, l.unsent = false, nil, nil
		l.failures, l.status, l.statusOK = nil, Status{}, false
		clear(l.counts)
		for i := range l.endpoints {
			l.endpoints[i] = EndpointStatus{Endpoint: l.endpoints[i].Endpoint, State: EndpointWaiting}
			l.seen[i] = nil
		}
	}
}

// flushCut is the start of the oldest hour that may still get samples at
// now: the hours before it are complete. Sources that hand over history
// (nv-hostengine) deliver samples up to a poll interval late.
func (l *clusterLoop) flushCut(now time.Time) time.Time {
	return now.Add(-2*l.cfg.Interval - time.Minute).Truncate(time.Hour)
}

// sampleEvery is how far apart a cluster's samples are: the poll interval,
// except for nv-hostengine, whose polls return every sample DCGM took (once
// a second) since the previous poll.
func sampleEvery(cfg ClusterConfig) time.Duration {
	if cfg.Kind == KindHostengine {
		return HostengineOptions{}.withDefaults().Interval
	}
	return cfg.Interval
}

// received takes in one poll of an endpoint: its samples are folded, and
// the endpoint's state, the failures and the counts updated. A failure, and
// a change of state, are reported to the store at once.
func (l *clusterLoop) received(ctx context.Context, a attempt) {
	e := &l.endpoints[a.index]
	before := *e
	e.LastAttempt, e.NextAttempt, e.Fails = a.at, a.next, a.fails
	k := countKey{a.index, a.at.UTC().Truncate(time.Hour).Unix()}
	n := l.counts[k]
	if n == nil {
		n = &PollCount{Endpoint: e.Endpoint, Hour: a.at.UTC().Truncate(time.Hour)}
		l.counts[k] = n
	}
	n.Polls++
	if obs := l.c.Observer; obs != nil {
		obs.Polled(l.cfg.Name, e.Endpoint, a.took, len(a.poll.Samples), a.poll.Skipped, a.err)
	}

	if a.err != nil {
		n.Failures++
		e.LastError, e.LastErrorAt = a.err.Error(), a.at
		e.State = EndpointRetrying
		if a.fails > l.c.Retries {
			e.State = EndpointBackingOff
		}
		l.seen[a.index] = nil
		l.failures = append(l.failures, Failure{At: a.at, Endpoint: e.Endpoint, Err: e.LastError, Fails: a.fails})
		if over := len(l.failures) - l.c.FailureHistory; over > 0 {
			l.failures = slices.Delete(l.failures, 0, over) // the store would keep no more
		}
		if a.fails == 1 || a.fails%10 == 0 {
			l.log.Warn("collector: poll failed", "endpoint", e.Endpoint, "err", a.err, "failures", a.fails,
				"next_attempt", a.next)
		}
	} else {
		uuids := map[string]bool{}
		for _, s := range a.poll.Samples {
			l.fold.Add(s)
			if l.oldest.IsZero() || s.Time.Before(l.oldest) {
				l.oldest = s.Time
			}
			if !uuids[s.UUID] {
				uuids[s.UUID] = true
				l.devices[s.UUID] = GPUInfo{UUID: s.UUID, Model: s.Model, Node: s.Node, Index: s.Index}
			}
		}
		l.seen[a.index] = uuids
		e.LastSuccess, e.GPUsSeen, e.State = a.at, len(uuids), EndpointOK
		if before.Fails > 0 {
			l.log.Info("collector: endpoint answers again", "endpoint", e.Endpoint, "after_failures", before.Fails)
		}
	}
	if obs := l.c.Observer; obs != nil {
		obs.Endpoint(l.cfg.Name, *e)
	}
	l.setStatus(ctx, l.summary(a.at))
	if a.err != nil || e.State != before.State || e.GPUsSeen != before.GPUsSeen {
		l.recordHealth(ctx)
	}
}

// summary sums the endpoints up as the cluster's status at now.
func (l *clusterLoop) summary(now time.Time) Status {
	st := Status{At: now}
	failed := 0
	first := ""
	gpus := map[string]bool{}
	for i, e := range l.endpoints {
		switch {
		case e.LastAttempt.IsZero():
		case e.Fails == 0:
			st.OK = true
			for u := range l.seen[i] {
				gpus[u] = true
			}
		default:
			failed++
			if first == "" {
				first = e.LastError
				if len(l.endpoints) > 1 && e.Endpoint != "" && !strings.Contains(first, e.Endpoint) {
					first = e.Endpoint + ": " + first
				}
			}
		}
	}
	st.GPUsSeen = len(gpus)
	switch {
	case failed == 0:
	case len(l.endpoints) == 1:
		st.Err = first
	default:
		st.Err = (&PartialError{Failed: failed, Total: len(l.endpoints), First: errors.New(first)}).Error()
	}
	return st
}

// setStatus keeps the status, writing it at once when it changed in kind
// (success ↔ failure, another error, another GPU count); otherwise it goes
// out with the next write.
func (l *clusterLoop) setStatus(ctx context.Context, st Status) {
	if !l.owned {
		return // the owner reports
	}
	changed := st.OK != l.status.OK || st.Err != l.status.Err || st.GPUsSeen != l.status.GPUsSeen || l.status.At.IsZero()
	l.status = st
	l.statusOK = false
	if changed {
		l.writeStatus(ctx)
	}
}

func (l *clusterLoop) writeStatus(ctx context.Context) {
	if l.statusOK || l.status.At.IsZero() {
		return
	}
	if err := l.c.Store.RecordStatus(ctx, l.cfg.ID, l.status); err != nil {
		if ctx.Err() == nil {
			l.log.Error("collector: record status", "err", err)
		}
		return
	}
	l.statusOK = true
}

// recordHealth reports the endpoints' states with the failures and counts
// not yet stored; what could not be stored goes with the next report.
func (l *clusterLoop) recordHealth(ctx context.Context) {
	h := Health{At: l.c.Now(), Endpoints: slices.Clone(l.endpoints), Failures: l.failures, Keep: l.c.FailureHistory}
	for _, n := range l.counts {
		h.Counts = append(h.Counts, *n)
	}
	slices.SortFunc(h.Counts, func(a, b PollCount) int {
		if c := a.Hour.Compare(b.Hour); c != 0 {
			return c
		}
		return strings.Compare(a.Endpoint, b.Endpoint)
	})
	if err := l.c.Store.RecordHealth(ctx, l.cfg.ID, h); err != nil {
		if ctx.Err() == nil {
			l.log.Error("collector: record endpoint health", "err", err)
		}
		return
	}
	l.failures = nil
	clear(l.counts)
}

// write stores the totals of every hour held: the hours the folder has
// finished (forgotten once written) and the current ones. Every rollup the
// folder returns is its device-hour's whole total so far, including what was
// stored before this collector took the cluster over.
func (l *clusterLoop) write(ctx context.Context) {
	now := l.c.Now()
	done := l.fold.Flush(l.flushCut(now))
	current := l.fold.Snapshot()
	rows := make([]Rollup, 0, len(l.unsent)+len(done)+len(current))
	rows = append(rows, l.unsent...)
	rows = append(rows, done...)
	finished := len(rows)
	rows = append(rows, current...)
	if len(rows) > 0 {
		began := time.Now()
		err := l.c.Store.UpsertRollups(ctx, l.cfg.ID, rows, now)
		var lag time.Duration
		if err == nil && !l.oldest.IsZero() {
			lag = max(0, now.Sub(l.oldest))
		}
		if obs := l.c.Observer; obs != nil {
			obs.Wrote(l.cfg.Name, len(rows), time.Since(began), lag, err)
		}
		if err != nil {
			if ctx.Err() == nil {
				l.log.Error("collector: write rollups", "err", err, "rows", len(rows))
			}
			// Finished hours are no longer in the folder: keep them for the next write.
			l.unsent = rows[:finished:finished]
			l.writeStatus(ctx)
			l.recordHealth(ctx)
			return
		}
	}
	l.unsent, l.oldest = nil, time.Time{}
	if len(l.devices) > 0 {
		gpus := make([]GPUInfo, 0, len(l.devices))
		for _, g := range l.devices {
			gpus = append(gpus, g)
		}
		if err := l.c.Store.RecordGPUs(ctx, l.cfg.ID, gpus, now); err != nil {
			if ctx.Err() == nil {
				l.log.Error("collector: record GPUs", "err", err)
			}
		} else {
			clear(l.devices)
		}
	}
	l.writeStatus(ctx)
	l.recordHealth(ctx)
}

// SourceFor builds a cluster's source from its configuration: its
// endpoints' sources (EndpointSource) polled together. now stamps the
// samples. The collector polls each endpoint on its own instead.
func SourceFor(cfg ClusterConfig, now func() time.Time) (Source, error) {
	eps := PolledEndpoints(cfg)
	srcs := make([]Source, 0, len(eps))
	for _, e := range eps {
		src, err := EndpointSource(cfg, e, now)
		if err != nil {
			for _, s := range srcs {
				s.Close()
			}
			return nil, err
		}
		srcs = append(srcs, src)
	}
	return Sources(srcs...), nil
}

// EndpointSource builds the source of one of a cluster's endpoints (one of
// PolledEndpoints): a dcgm-exporter scrape, an nv-hostengine reader, or the
// simulator. now stamps the samples.
func EndpointSource(cfg ClusterConfig, endpoint string, now func() time.Time) (Source, error) {
	switch cfg.Kind {
	case KindSimulator:
		return NewSimulator(SimulatorConfigFor(cfg, now)), nil
	case KindExporter:
		if endpoint == "" {
			return nil, errors.New("no dcgm-exporter endpoint configured")
		}
		opts := ExporterOptions{BearerToken: cfg.BearerToken, Now: now}
		if cfg.TLSSkipVerify {
			opts.TLS = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the administrator chose it for this cluster
		}
		return NewExporterSource(endpoint, opts), nil
	case KindHostengine:
		if endpoint == "" {
			return nil, errors.New("no nv-hostengine address configured")
		}
		return NewHostengineSource(endpoint, HostengineOptions{}), nil
	}
	return nil, fmt.Errorf("unknown source kind %q", cfg.Kind)
}

// SimulatorConfigFor is the simulator of a simulated cluster: eight GPUs a
// node (fewer for a smaller cluster), named after the cluster and seeded by
// its seed, so that its GPUs are known before the collector first polls.
func SimulatorConfigFor(cfg ClusterConfig, now func() time.Time) SimConfig {
	perNode := 8
	count := max(cfg.GPUCount, 1)
	if count < perNode {
		perNode = count
	}
	return SimConfig{Seed: cfg.Seed, Cluster: cfg.Name, Nodes: (count + perNode - 1) / perNode, GPUsPerNode: perNode,
		Model: cfg.GPUModel, Now: now, Interval: cfg.Interval}
}

// Sources polls several sources together as one (a cluster with one
// endpoint per node). A poll answers with the samples of every source that
// answered; when some failed it also returns a *PartialError, and when all
// failed, the first error.
func Sources(srcs ...Source) Source {
	if len(srcs) == 1 {
		return srcs[0]
	}
	return multiSource(srcs)
}

type multiSource []Source

// PartialError says that some of a cluster's endpoints failed in a poll
// whose samples come from the others.
type PartialError struct {
	Failed, Total int
	First         error
}

func (e *PartialError) Error() string {
	return fmt.Sprintf("%d of %d endpoints failed: %v", e.Failed, e.Total, e.First)
}

func (e *PartialError) Unwrap() error { return e.First }

func (m multiSource) Poll(ctx context.Context) (Poll, error) {
	results := make([]pollResult, len(m))
	var wg sync.WaitGroup
	for i, s := range m {
		wg.Go(func() {
			p, err := s.Poll(ctx)
			results[i] = pollResult{p, err}
		})
	}
	wg.Wait()
	var out Poll
	var errs []error
	for _, r := range results {
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		out.Samples = append(out.Samples, r.poll.Samples...)
		out.Skipped += r.poll.Skipped
	}
	switch {
	case len(errs) == len(m):
		return Poll{}, errs[0]
	case len(errs) > 0:
		return out, &PartialError{Failed: len(errs), Total: len(m), First: errs[0]}
	}
	return out, nil
}

func (m multiSource) Close() error {
	var errs []error
	for _, s := range m {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}
