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
	"sync"
	"time"
)

// The collector: one loop per cluster polls its source on the cluster's
// interval, folds the samples into hourly rollups in memory and writes the
// hours' totals to the store every minute. A slow or dead cluster never
// delays another: each loop has its own goroutine, each poll its own
// timeout, and failures back off exponentially (capped). Gaps are never
// filled in: the Folder counts only the time the samples cover.
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

// Status is what a collector loop reports about its cluster. A poll that
// reached some endpoints but not all is OK with an Err.
type Status struct {
	At       time.Time
	OK       bool
	Err      string
	GPUsSeen int
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
	// NewSource builds a cluster's source (default SourceFor).
	NewSource func(ClusterConfig, func() time.Time) (Source, error)
	// WriteEvery is how often rollups are written and the leases renewed
	// (default 1 min): a crash loses at most this much telemetry.
	WriteEvery time.Duration
	// ReloadEvery is how often the list of clusters is read again (default 1 min).
	ReloadEvery time.Duration
	// LeaseTTL is how long a lease lasts unrenewed (default 3 × WriteEvery).
	LeaseTTL time.Duration
	// PollTimeout bounds one poll (default: the interval, at least 10 s and
	// at most 60 s).
	PollTimeout time.Duration
	// MaxBackoff caps the wait after repeated failures (default 5 min).
	MaxBackoff time.Duration
	// FinalWriteTimeout bounds the last write when the collector stops (default 10 s).
	FinalWriteTimeout time.Duration
}

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
		c.NewSource = SourceFor
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
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Minute
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
	c.Log.Info("collector started", "owner", c.Owner, "write_every", c.WriteEvery)
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

// Backoff is the wait before the next poll after fails failures in a row:
// the interval doubled per failure, never more than max (nor less than the interval).
func Backoff(interval time.Duration, fails int, max time.Duration) time.Duration {
	d := interval
	for i := 0; i < fails && d < max; i++ {
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

// clusterLoop is the state of one cluster's loop.
type clusterLoop struct {
	c     *Collector
	cfg   ClusterConfig
	log   *slog.Logger
	owned bool
	src   Source

	fold   *Folder
	unsent []Rollup // finished hours whose write failed: written again next time

	fails    int
	status   Status
	statusOK bool // status was written since it last changed
	devices  map[string]GPUInfo
}

// pollTimeout is the timeout of one poll of the cluster.
func (l *clusterLoop) pollTimeout() time.Duration {
	if l.c.PollTimeout > 0 {
		return l.c.PollTimeout
	}
	return min(max(l.cfg.Interval, 10*time.Second), time.Minute)
}

// stopGrace is how long a stopping loop waits for the poll in flight to
// answer its cancelled context before leaving it behind.
const stopGrace = 200 * time.Millisecond

func (c *Collector) loop(ctx context.Context, cfg ClusterConfig) {
	if cfg.Interval <= 0 {
		cfg.Interval = 15 * time.Second
	}
	l := &clusterLoop{c: c, cfg: cfg, log: c.Log.With("cluster", cfg.Name, "cluster_id", cfg.ID)}
	defer l.close()

	var (
		pending   chan pollResult // a poll in flight
		abandoned bool            // the poll in flight overran its timeout; its answer will be dropped
		cancel    context.CancelFunc
		deadline  *time.Timer
		deadlineC <-chan time.Time
	)
	next := time.NewTimer(0)
	defer next.Stop()
	write := time.NewTicker(c.WriteEvery)
	defer write.Stop()
	l.lease(ctx)

	for {
		select {
		case <-ctx.Done():
			if cancel != nil {
				cancel()
			}
			fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), c.FinalWriteTimeout)
			if l.owned {
				l.write(fctx)
				if err := c.Store.ReleaseLease(fctx, cfg.ID, c.Owner); err != nil {
					l.log.Warn("collector: release lease", "err", err)
				}
			}
			fcancel()
			if pending != nil {
				// A poll that heeds its cancelled context answers at once and
				// the source is closed here; one that ignores it must not
				// hold up the stop, so its source is closed when it answers.
				select {
				case <-pending:
				case <-time.After(stopGrace):
					src := l.src
					l.src = nil
					go func() {
						<-pending
						if src != nil {
							src.Close()
						}
					}()
				}
			}
			return

		case <-next.C:
			if !l.owned {
				next.Reset(cfg.Interval)
				continue
			}
			if pending != nil {
				// The last poll hung past its timeout and has still not returned.
				l.failed(ctx, fmt.Errorf("poll still running after %s; source not answering", l.pollTimeout()))
				next.Reset(Backoff(cfg.Interval, l.fails, c.MaxBackoff))
				continue
			}
			if l.src == nil {
				src, err := c.NewSource(cfg, c.Now)
				if err != nil {
					l.failed(ctx, err)
					next.Reset(Backoff(cfg.Interval, l.fails, c.MaxBackoff))
					continue
				}
				l.src = src
			}
			var pctx context.Context
			pctx, cancel = context.WithTimeout(ctx, l.pollTimeout())
			ch := make(chan pollResult, 1)
			go func(src Source) {
				p, err := src.Poll(pctx)
				ch <- pollResult{p, err}
			}(l.src)
			pending, abandoned = ch, false
			// A little after the poll's own timeout, the loop stops waiting.
			deadline = time.NewTimer(l.pollTimeout() + time.Second)
			deadlineC = deadline.C

		case r := <-pending:
			pending = nil
			cancel()
			if deadline != nil {
				deadline.Stop()
				deadlineC = nil
			}
			if abandoned {
				continue // the next poll is already scheduled
			}
			if l.owned {
				l.received(ctx, r)
			}
			if r.err != nil && len(r.poll.Samples) == 0 {
				next.Reset(Backoff(cfg.Interval, l.fails, c.MaxBackoff))
			} else {
				next.Reset(cfg.Interval)
			}

		case <-deadlineC:
			deadlineC = nil
			cancel()
			abandoned = true
			l.failed(ctx, fmt.Errorf("poll timed out after %s", l.pollTimeout()))
			next.Reset(Backoff(cfg.Interval, l.fails, c.MaxBackoff))

		case <-write.C:
			l.lease(ctx)
			if l.owned {
				l.write(ctx)
			}
		}
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
		l.fold, l.unsent, l.devices, l.owned = fold, nil, map[string]GPUInfo{}, true
		l.log.Info("collector: cluster taken", "owner", l.c.Owner, "stored_rollups", len(stored))
	case !ok && l.owned:
		l.log.Warn("collector: lease lost to another collector; dropping unwritten telemetry")
		l.owned, l.fold, l.unsent = false, nil, nil
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

// received folds a poll's samples and records the status.
func (l *clusterLoop) received(ctx context.Context, r pollResult) {
	if r.err != nil && len(r.poll.Samples) == 0 {
		l.failed(ctx, r.err)
		return
	}
	uuids := map[string]bool{}
	for _, s := range r.poll.Samples {
		l.fold.Add(s)
		if !uuids[s.UUID] {
			uuids[s.UUID] = true
			l.devices[s.UUID] = GPUInfo{UUID: s.UUID, Model: s.Model, Node: s.Node, Index: s.Index}
		}
	}
	l.fails = 0
	st := Status{At: l.c.Now(), OK: true, GPUsSeen: len(uuids)}
	if r.err != nil {
		st.Err = r.err.Error() // some endpoints answered, some did not
	}
	l.setStatus(ctx, st)
}

// failed records a failed poll.
func (l *clusterLoop) failed(ctx context.Context, err error) {
	l.fails++
	if l.fails == 1 || l.fails%10 == 0 {
		l.log.Warn("collector: poll failed", "err", err, "failures", l.fails)
	}
	l.setStatus(ctx, Status{At: l.c.Now(), Err: err.Error()})
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
		if err := l.c.Store.UpsertRollups(ctx, l.cfg.ID, rows, now); err != nil {
			if ctx.Err() == nil {
				l.log.Error("collector: write rollups", "err", err, "rows", len(rows))
			}
			// Finished hours are no longer in the folder: keep them for the next write.
			l.unsent = rows[:finished:finished]
			l.writeStatus(ctx)
			return
		}
	}
	l.unsent = nil
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
}

func (l *clusterLoop) close() {
	if l.src != nil {
		if err := l.src.Close(); err != nil {
			l.log.Warn("collector: close source", "err", err)
		}
	}
}

// SourceFor builds a cluster's source from its configuration: one
// dcgm-exporter scrape or nv-hostengine reader per endpoint (polled
// together), or the simulator. now stamps the samples.
func SourceFor(cfg ClusterConfig, now func() time.Time) (Source, error) {
	switch cfg.Kind {
	case KindSimulator:
		return NewSimulator(SimulatorConfigFor(cfg, now)), nil
	case KindExporter:
		if len(cfg.Endpoints) == 0 {
			return nil, errors.New("no dcgm-exporter endpoint configured")
		}
		opts := ExporterOptions{BearerToken: cfg.BearerToken, Now: now}
		if cfg.TLSSkipVerify {
			opts.TLS = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the administrator chose it for this cluster
		}
		srcs := make([]Source, len(cfg.Endpoints))
		for i, u := range cfg.Endpoints {
			srcs[i] = NewExporterSource(u, opts)
		}
		return Sources(srcs...), nil
	case KindHostengine:
		if len(cfg.Endpoints) == 0 {
			return nil, errors.New("no nv-hostengine address configured")
		}
		srcs := make([]Source, len(cfg.Endpoints))
		for i, a := range cfg.Endpoints {
			srcs[i] = NewHostengineSource(a, HostengineOptions{})
		}
		return Sources(srcs...), nil
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
