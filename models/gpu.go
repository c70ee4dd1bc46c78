package models

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// GPU allocation and telemetry storage: the clusters the state rents from
// cloud providers, the GPUs the collector discovers on them, the blocks
// allocated to teams, the hourly rollups of what each GPU did, and the lease
// that lets one collector own a cluster at a time.

// Telemetry source kinds of a cluster.
const (
	SourceExporter   = "exporter"   // dcgm-exporter /metrics endpoints
	SourceHostengine = "hostengine" // nv-hostengine addresses read through go-dcgm
	SourceSimulator  = "simulator"  // the deterministic simulator (demo and tests)
)

// SourceKinds lists the kinds a cluster may use.
var SourceKinds = []string{SourceSimulator, SourceExporter, SourceHostengine}

// Block kinds of an allocation.
const (
	BlockB200    = "b200-500" // a block of 500 B200
	BlockHSeries = "h-1000"   // a block of 1,000 H-series (H100, H200, H20, H800)
	BlockCustom  = "custom"   // any count: a part block, or a team's own GPUs
)

// BlockKinds lists the block kinds, the standard blocks first.
var BlockKinds = []string{BlockB200, BlockHSeries, BlockCustom}

// BlockSize is the number of GPUs a standard block holds; 0 for custom.
func BlockSize(kind string) int {
	switch kind {
	case BlockB200:
		return 500
	case BlockHSeries:
		return 1000
	}
	return 0
}

var hSeriesModel = regexp.MustCompile(`(?i)\bH(100|200|20|800)\b`)

// BlockFits reports whether a GPU of the given model may be part of a block
// of the kind: B200 in a B200 block, H100/H200/H20/H800 in an H-series block,
// anything in a custom one.
func BlockFits(kind, model string) bool {
	switch kind {
	case BlockB200:
		return strings.Contains(strings.ToUpper(model), "B200")
	case BlockHSeries:
		return hSeriesModel.MatchString(model)
	}
	return true
}

// Cluster poll intervals, in seconds.
const (
	MinPollSeconds     = 1
	MaxPollSeconds     = 3600
	DefaultPollSeconds = 15
)

// Cluster is a GPU cluster from which telemetry is collected. The status
// fields are written by the collector.
type Cluster struct {
	ID          uint   `gorm:"primaryKey"`
	Name        string `gorm:"size:120;not null;uniqueIndex"`
	Provider    string `gorm:"size:120;not null"` // the cloud service provider (CSP), or the team for its own GPUs
	Region      string `gorm:"size:120;not null"`
	GPUModel    string `gorm:"column:gpu_model;size:120;not null"`
	GPUCount    int    `gorm:"column:gpu_count;not null"`
	SourceKind  string `gorm:"size:16;not null"`
	Endpoints   string `gorm:"type:text;not null"` // one URL or hostengine address per line
	PollSeconds int    `gorm:"not null"`
	// BearerToken is sent to dcgm-exporter endpoints: the token in the
	// clear, as an administrator typed it for SaveCluster or as the
	// collector's store opened it. It is never stored, and never shown.
	BearerToken string `gorm:"-"`
	// SealedToken is what the database holds: BearerToken sealed by a
	// SecretBox (see SealClusterTokens for rows stored before sealing).
	SealedToken   string `gorm:"column:bearer_token;size:4096;not null;default:''"`
	TLSSkipVerify bool   `gorm:"column:tls_skip_verify;not null;default:false"`
	SimSeed       int64  `gorm:"not null;default:0"`

	// Status, as the collector last recorded it.
	LastSuccessAt *time.Time
	LastErrorAt   *time.Time
	LastError     string `gorm:"type:text;not null;default:''"`
	GPUsSeen      int    `gorm:"column:gpus_seen;not null;default:0"`
	StatusAt      *time.Time

	CreatedAt time.Time
	UpdatedAt time.Time
}

// EndpointList returns the endpoints, one per non-blank line.
func (c *Cluster) EndpointList() []string {
	var out []string
	for _, l := range strings.Split(c.Endpoints, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// PollInterval is the cluster's poll interval.
func (c *Cluster) PollInterval() time.Duration { return time.Duration(c.PollSeconds) * time.Second }

// HasToken reports whether a bearer token is stored; pages say only that.
func (c *Cluster) HasToken() bool { return c.SealedToken != "" }

// Healthy reports whether the last poll succeeded.
func (c *Cluster) Healthy() bool {
	return c.LastSuccessAt != nil && (c.LastErrorAt == nil || c.LastSuccessAt.After(*c.LastErrorAt))
}

// Cluster states, as the status page shows them.
const (
	ClusterWaiting = "waiting" // never polled yet
	ClusterOK      = "ok"      // the last poll succeeded
	ClusterPartial = "partial" // the last poll reached some endpoints, not all
	ClusterFailing = "failing" // the last poll failed
	ClusterStale   = "stale"   // no status for a while: no collector is polling it
)

// State sums the collector's status up at now.
func (c *Cluster) State(now time.Time) string {
	switch {
	case c.StatusAt == nil:
		return ClusterWaiting
	case now.Sub(*c.StatusAt) > 3*c.PollInterval()+3*time.Minute:
		return ClusterStale
	case c.LastSuccessAt != nil && c.LastErrorAt != nil && c.LastSuccessAt.Equal(*c.LastErrorAt):
		return ClusterPartial
	case c.Healthy():
		return ClusterOK
	}
	return ClusterFailing
}

// Validate checks a cluster as an administrator wrote it, by form field.
func (c *Cluster) Validate() FieldErrors {
	errs := FieldErrors{}
	for field, v := range map[string]string{"name": c.Name, "provider": c.Provider, "region": c.Region, "gpu_model": c.GPUModel} {
		if strings.TrimSpace(v) == "" {
			errs.Add(field, "form.required")
		}
		errs.CheckText(field, v, MaxClusterText, SingleLine)
	}
	errs.CheckText("endpoints", c.Endpoints, MaxClusterEndpoints, MultiLine)
	if c.GPUCount < 1 || c.GPUCount > 100000 {
		errs.Add("gpu_count", "gpu.error.gpu_count")
	}
	if c.PollSeconds < MinPollSeconds || c.PollSeconds > MaxPollSeconds {
		errs.Add("poll_seconds", "gpu.error.poll_seconds")
	}
	switch c.SourceKind {
	case SourceSimulator:
	case SourceExporter:
		eps := c.EndpointList()
		if len(eps) == 0 {
			errs.Add("endpoints", "gpu.error.endpoints_required")
		}
		for _, e := range eps {
			u, err := url.Parse(e)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
				errs.Add("endpoints", "gpu.error.endpoint_url")
			}
		}
	case SourceHostengine:
		eps := c.EndpointList()
		if len(eps) == 0 {
			errs.Add("endpoints", "gpu.error.endpoints_required")
		}
		for _, e := range eps {
			if !validHostPort(e) {
				errs.Add("endpoints", "gpu.error.endpoint_address")
			}
		}
	default:
		errs.Add("source_kind", "gpu.error.source_kind")
	}
	if strings.ContainsAny(c.BearerToken, " \t\r\n") {
		errs.Add("bearer_token", "gpu.error.token")
	}
	errs.CheckText("bearer_token", c.BearerToken, MaxBearerToken, SingleLine)
	return errs
}

// validHostPort accepts "host", "host:port", "[v6]:port" and a unix socket
// ("unix:///path" or "/path"), as nv-hostengine listens on either.
func validHostPort(s string) bool {
	if p, ok := strings.CutPrefix(s, "unix://"); ok {
		s = p
	}
	if strings.HasPrefix(s, "/") {
		return !strings.ContainsAny(s, " \t")
	}
	if strings.ContainsAny(s, "/ ") {
		return false
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = s, ""
	}
	if host == "" {
		return false
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return false
		}
	}
	return true
}

// SaveCluster creates (ID 0) or updates a cluster with its audit row. A
// bearer token typed (BearerToken) is stored sealed by box; on an update a
// blank one keeps the stored token, and clearToken removes it. Without a box
// (no PORTAL_SECRET_KEY) a token cannot be stored: a field error. A name
// already in use is a field error too (ErrInvalid).
func SaveCluster(ctx context.Context, db *gorm.DB, box *SecretBox, c *Cluster, clearToken bool, by *User, now time.Time) (FieldErrors, error) {
	c.Name, c.Provider, c.Region, c.GPUModel = strings.TrimSpace(c.Name), strings.TrimSpace(c.Provider),
		strings.TrimSpace(c.Region), strings.TrimSpace(c.GPUModel)
	c.BearerToken = strings.TrimSpace(c.BearerToken)
	c.Endpoints = strings.Join(c.EndpointList(), "\n")
	if errs := c.Validate(); errs.Any() {
		return errs, fmt.Errorf("store: save cluster: %w", ErrInvalid)
	}
	sealed, err := box.Seal(c.BearerToken)
	if err != nil {
		return FieldErrors{"bearer_token": "input.token_no_key"}, fmt.Errorf("store: save cluster %q: %v: %w", c.Name, err, ErrInvalid)
	}
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		action := "cluster.create"
		if c.ID != 0 {
			action = "cluster.update"
			var old Cluster
			if err := tx.First(&old, c.ID).Error; err != nil {
				return notFound(fmt.Sprintf("store: cluster %d", c.ID), err)
			}
			switch {
			case clearToken:
				c.BearerToken, c.SealedToken = "", ""
			case c.BearerToken == "":
				c.SealedToken = old.SealedToken
			default:
				c.SealedToken = sealed
			}
			err := tx.Model(&Cluster{ID: c.ID}).Select("Name", "Provider", "Region", "GPUModel", "GPUCount", "SourceKind",
				"Endpoints", "PollSeconds", "SealedToken", "TLSSkipVerify", "SimSeed", "UpdatedAt").Updates(c).Error
			if err != nil {
				return err
			}
		} else {
			c.SealedToken = sealed
			if err := tx.Create(c).Error; err != nil {
				return err
			}
		}
		token := "none"
		if c.HasToken() {
			token = "set"
		}
		summary := fmt.Sprintf("%s: %s %s, %d × %s, %s source (%d endpoint(s), every %ds, token %s, TLS verify %t)",
			c.Name, c.Provider, c.Region, c.GPUCount, c.GPUModel, c.SourceKind, len(c.EndpointList()), c.PollSeconds,
			token, !c.TLSSkipVerify)
		return RecordAudit(ctx, tx, ActorOf(by), action, "cluster", strconv.FormatUint(uint64(c.ID), 10), summary, now)
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return FieldErrors{"name": "gpu.error.name_taken"}, fmt.Errorf("store: save cluster %q: %w", c.Name, ErrInvalid)
	}
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, err
		}
		return nil, fmt.Errorf("store: save cluster %q: %w", c.Name, err)
	}
	return nil, nil
}

// SealClusterTokens readies the stored bearer tokens for box at start,
// after the migrations and before anything reads them. Tokens stored in the
// clear (written before tokens were sealed) are sealed in place, in one
// transaction, each with a "cluster.token_sealed" audit row; it returns how
// many. Then every sealed token must open with box: one sealed under
// another key, or any token when box is nil (no PORTAL_SECRET_KEY), is an
// error naming the cluster, matching ErrSecretKey, and the portal does not
// start rather than poll without its credentials.
func SealClusterTokens(ctx context.Context, db *gorm.DB, box *SecretBox, now time.Time) (int, error) {
	sealed := 0
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var cs []Cluster
		if err := tx.Where("bearer_token <> ''").Order("id").Find(&cs).Error; err != nil {
			return fmt.Errorf("store: read cluster tokens: %w", err)
		}
		for _, c := range cs {
			if IsSealed(c.SealedToken) {
				if _, err := box.Open(c.SealedToken); err != nil {
					return fmt.Errorf("store: bearer token of cluster %q (id %d): %w", c.Name, c.ID, err)
				}
				continue
			}
			s, err := box.Seal(c.SealedToken)
			if err != nil {
				return fmt.Errorf("store: cluster %q (id %d) has a bearer token stored in the clear; set PORTAL_SECRET_KEY to seal it: %w", c.Name, c.ID, err)
			}
			if err := tx.Model(&Cluster{}).Where("id = ?", c.ID).UpdateColumn("bearer_token", s).Error; err != nil {
				return fmt.Errorf("store: seal the token of cluster %d: %w", c.ID, err)
			}
			if err := RecordAudit(ctx, tx, ActorOf(nil), "cluster.token_sealed", "cluster", strconv.FormatUint(uint64(c.ID), 10),
				fmt.Sprintf("%s: bearer token stored in the clear sealed with key %s", c.Name, box.KeyID()), now); err != nil {
				return err
			}
			sealed++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return sealed, nil
}

// GetCluster loads one cluster.
func GetCluster(ctx context.Context, db *gorm.DB, id uint) (*Cluster, error) {
	var c Cluster
	if err := db.WithContext(ctx).First(&c, id).Error; err != nil {
		return nil, notFound(fmt.Sprintf("store: cluster %d", id), err)
	}
	return &c, nil
}

// ListClusters returns every cluster by name.
func ListClusters(ctx context.Context, db *gorm.DB) ([]Cluster, error) {
	var cs []Cluster
	if err := db.WithContext(ctx).Order("name").Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("store: list clusters: %w", err)
	}
	return cs, nil
}

// ClusterStatus is what one collector loop reports about its cluster.
type ClusterStatus struct {
	At       time.Time
	OK       bool   // the last poll brought samples
	Err      string // what went wrong: the poll failed, or (with OK) some endpoints did not answer
	GPUsSeen int
}

// RecordClusterStatus stores the collector's view of a cluster. A success
// keeps the last error (with its time) so that the page can show both; a
// success with an error (some endpoints failed) records both at once.
func RecordClusterStatus(ctx context.Context, db *gorm.DB, clusterID uint, s ClusterStatus) error {
	at := s.At.UTC()
	set := map[string]any{"status_at": at, "gpus_seen": s.GPUsSeen}
	if s.OK {
		set["last_success_at"] = at
	}
	if s.Err != "" || !s.OK {
		set["last_error_at"] = at
		set["last_error"] = s.Err
	}
	// UpdateColumns: the collector's status is not an edit of the cluster.
	if err := db.WithContext(ctx).Model(&Cluster{}).Where("id = ?", clusterID).UpdateColumns(set).Error; err != nil {
		return fmt.Errorf("store: cluster %d status: %w", clusterID, err)
	}
	return nil
}

// GPU is a GPU the collector has seen on a cluster. A UUID is unique and
// belongs to the cluster that reported it first: the same UUID reported by
// another cluster is refused there and recorded as a GPUConflict, so that
// neither cluster's history is written over the other's.
type GPU struct {
	ID        uint      `gorm:"primaryKey"`
	ClusterID uint      `gorm:"not null;index"`
	UUID      string    `gorm:"column:uuid;size:128;not null;uniqueIndex"`
	Node      string    `gorm:"size:255;not null;index"`
	Index     int       `gorm:"column:gpu_index;not null"`
	Model     string    `gorm:"size:120;not null"`
	FirstSeen time.Time `gorm:"not null"`
	LastSeen  time.Time `gorm:"not null"`
}

// GPUConflict records that a cluster reported a GPU UUID registered to
// another cluster: its telemetry of that GPU is refused (not stored), and
// both clusters' status says so.
type GPUConflict struct {
	ID             uint      `gorm:"primaryKey"`
	UUID           string    `gorm:"column:uuid;size:128;not null;uniqueIndex:idx_gpu_conflict"`
	ClusterID      uint      `gorm:"not null;uniqueIndex:idx_gpu_conflict"` // the cluster whose reports are refused
	OwnerClusterID uint      `gorm:"not null;index"`                        // the cluster the GPU is registered to
	Node           string    `gorm:"size:255;not null"`                     // where the refused cluster says it is
	FirstSeen      time.Time `gorm:"not null"`
	LastSeen       time.Time `gorm:"not null"`
}

// SeenGPU is one GPU as a poll saw it.
type SeenGPU struct {
	UUID, Node, Model string
	Index             int
}

// RecordGPUs records the GPUs seen on a cluster at an instant: new ones are
// added to the cluster, the cluster's own get their node, index, model and
// last-seen time. A GPU without a model (dcgm-exporter without modelName)
// takes the cluster's registered model. A UUID registered to another
// cluster is left there and recorded as a conflict.
func RecordGPUs(ctx context.Context, db *gorm.DB, clusterID uint, gpus []SeenGPU, at time.Time) error {
	if len(gpus) == 0 {
		return nil
	}
	at = at.UTC()
	db = db.WithContext(ctx)
	var clusterModel *string
	rows := make([]GPU, 0, len(gpus))
	seen := map[string]bool{}
	for _, g := range gpus {
		if g.UUID == "" || seen[g.UUID] {
			continue
		}
		seen[g.UUID] = true
		if g.Model == "" {
			if clusterModel == nil {
				var m string
				if err := db.Model(&Cluster{}).Where("id = ?", clusterID).Pluck("gpu_model", &m).Error; err != nil {
					return fmt.Errorf("store: record GPUs of cluster %d: %w", clusterID, err)
				}
				clusterModel = &m
			}
			g.Model = *clusterModel
		}
		rows = append(rows, GPU{ClusterID: clusterID, UUID: g.UUID, Node: g.Node, Index: g.Index, Model: g.Model,
			FirstSeen: at, LastSeen: at})
	}
	// A transaction per chunk, as the rollups are written (see
	// RollupChunk): a cluster's 10,000 GPUs seen for the first time after
	// a start would otherwise hold SQLite's write lock for the whole list.
	for chunk := range slices.Chunk(rows, RollupChunk) {
		err := db.Transaction(func(tx *gorm.DB) error {
			err := tx.Clauses(clause.OnConflict{
				Columns:   []clause.Column{{Name: "uuid"}},
				DoUpdates: clause.AssignmentColumns([]string{"node", "gpu_index", "model", "last_seen"}),
				Where:     clause.Where{Exprs: []clause.Expression{clause.Expr{SQL: "gpus.cluster_id = excluded.cluster_id"}}},
			}).Create(chunk).Error
			if err != nil {
				return fmt.Errorf("store: record %d GPUs of cluster %d: %w", len(chunk), clusterID, err)
			}
			uuids := make([]string, len(chunk))
			for i, g := range chunk {
				uuids[i] = g.UUID
			}
			owners, err := gpuOwners(tx, uuids)
			if err != nil {
				return err
			}
			for _, g := range chunk {
				if o := owners[g.UUID]; o != clusterID {
					if err := recordConflict(tx, g.UUID, clusterID, o, g.Node, at); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// gpuOwners returns the cluster each of the UUIDs is registered to.
func gpuOwners(tx *gorm.DB, uuids []string) (map[string]uint, error) {
	owners := make(map[string]uint, len(uuids))
	for chunk := range slices.Chunk(uuids, 1000) {
		var rows []struct {
			UUID      string `gorm:"column:uuid"`
			ClusterID uint   `gorm:"column:cluster_id"`
		}
		if err := tx.Model(&GPU{}).Select("uuid, cluster_id").Where("uuid IN ?", chunk).Scan(&rows).Error; err != nil {
			return nil, fmt.Errorf("store: GPU owners: %w", err)
		}
		for _, r := range rows {
			owners[r.UUID] = r.ClusterID
		}
	}
	return owners, nil
}

// recordConflict notes that cluster reported, at at, a GPU registered to owner.
func recordConflict(tx *gorm.DB, uuid string, cluster, owner uint, node string, at time.Time) error {
	c := GPUConflict{UUID: uuid, ClusterID: cluster, OwnerClusterID: owner, Node: node, FirstSeen: at, LastSeen: at}
	err := tx.Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "uuid"}, {Name: "cluster_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"owner_cluster_id", "node", "last_seen"}),
	}).Create(&c).Error
	if err != nil {
		return fmt.Errorf("store: GPU %s reported by cluster %d, registered to %d: %w", uuid, cluster, owner, err)
	}
	return nil
}

// ListGPUConflicts lists every UUID conflict, by UUID.
func ListGPUConflicts(ctx context.Context, db *gorm.DB) ([]GPUConflict, error) {
	var cs []GPUConflict
	if err := db.WithContext(ctx).Order("uuid, cluster_id").Find(&cs).Error; err != nil {
		return nil, fmt.Errorf("store: GPU conflicts: %w", err)
	}
	return cs, nil
}

// ListClusterGPUs returns the GPUs discovered on a cluster, by node and index.
func ListClusterGPUs(ctx context.Context, db *gorm.DB, clusterID uint) ([]GPU, error) {
	var gs []GPU
	if err := db.WithContext(ctx).Where("cluster_id = ?", clusterID).Order("node, gpu_index, uuid").Find(&gs).Error; err != nil {
		return nil, fmt.Errorf("store: GPUs of cluster %d: %w", clusterID, err)
	}
	return gs, nil
}

// AllocatedGPUs returns the discovered GPUs of an allocation, by node and index.
func AllocatedGPUs(ctx context.Context, db *gorm.DB, allocID uint) ([]GPU, error) {
	var gs []GPU
	err := db.WithContext(ctx).Where("uuid IN (?)", allocationGPUs(db, allocID)).Order("node, gpu_index, uuid").Find(&gs).Error
	if err != nil {
		return nil, fmt.Errorf("store: GPUs of allocation %d: %w", allocID, err)
	}
	return gs, nil
}

// NodeGPUs is one node of a cluster and how many GPUs were seen on it.
type NodeGPUs struct {
	Node  string
	Count int
}

// Nodes groups a cluster's GPUs by node, in node order.
func Nodes(gpus []GPU) []NodeGPUs {
	var out []NodeGPUs
	for _, g := range gpus {
		if n := len(out); n > 0 && out[n-1].Node == g.Node {
			out[n-1].Count++
			continue
		}
		out = append(out, NodeGPUs{Node: g.Node, Count: 1})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out
}

// Allocation is a block of GPUs on a cluster lent to a team for a period of
// days (KST, both ends included). The GPUs are named one by one; the same
// GPU is never in two allocations whose periods overlap.
type Allocation struct {
	ID             uint          `gorm:"primaryKey"`
	OrganisationID uint          `gorm:"not null;index"`
	Organisation   *Organisation `gorm:"constraint:OnDelete:RESTRICT"`
	ClusterID      uint          `gorm:"not null;index"`
	Cluster        *Cluster      `gorm:"constraint:OnDelete:RESTRICT"`
	BlockKind      string        `gorm:"size:16;not null"`
	GPUCount       int           `gorm:"column:gpu_count;not null"` // the block's size: 500, 1,000 or the custom count
	PeriodFrom     string        `gorm:"size:10;not null"`          // 2006-01-02, KST, first day
	PeriodTo       string        `gorm:"size:10;not null"`          // 2006-01-02, KST, last day (included)
	OwnGPUs        bool          `gorm:"not null"`                  // the team's own GPUs, registered for telemetry
	Note           string        `gorm:"type:text;not null"`        // e.g. why a block is named only in part
	// PendingNodes are nodes allocated while the cluster was down, one per
	// line: their GPUs are identified once the cluster reports them.
	PendingNodes string `gorm:"type:text;not null;default:''"`
	EndReason    string `gorm:"type:text;not null;default:''"` // why it was ended early; set once
	CreatedByID  uint   `gorm:"not null"`
	CreatedAt    time.Time
	UpdatedAt    time.Time
	GPUs         []AllocationGPU `gorm:"constraint:OnDelete:CASCADE"`
}

// AllocationGPU names one GPU of an allocation.
type AllocationGPU struct {
	ID           uint   `gorm:"primaryKey"`
	AllocationID uint   `gorm:"not null;uniqueIndex:idx_alloc_gpu"`
	GPUUUID      string `gorm:"column:gpu_uuid;size:128;not null;uniqueIndex:idx_alloc_gpu;index"`
	// JoinedAt and LeftAt bound when the GPU belonged to the allocation (on
	// the hour, UTC): nil is from the period's start and to its end. A GPU
	// counts, expected and observed, only while it belonged.
	JoinedAt *time.Time
	LeftAt   *time.Time
}

// Period returns the allocation's first and last day.
func (a *Allocation) Period() (from, to Date) {
	from, _ = ParseDate(a.PeriodFrom)
	to, _ = ParseDate(a.PeriodTo)
	return from, to
}

// Span is the allocation's period as instants: from 00:00 KST of the first
// day to 00:00 KST after the last (exclusive).
func (a *Allocation) Span() (start, end time.Time) {
	from, to := a.Period()
	return from.Start().UTC(), to.AddDays(1).Start().UTC()
}

// UUIDs lists the allocated GPUs' UUIDs.
func (a *Allocation) UUIDs() []string {
	out := make([]string, len(a.GPUs))
	for i, g := range a.GPUs {
		out[i] = g.GPUUUID
	}
	return out
}

// Has reports whether the GPU is part of the allocation.
func (a *Allocation) Has(uuid string) bool {
	return slices.ContainsFunc(a.GPUs, func(g AllocationGPU) bool { return g.GPUUUID == uuid })
}

// MaySee reports whether the user may see the allocation and its telemetry:
// the ministry and auditors, and the team it is lent to.
func (a *Allocation) MaySee(u *User) bool { return u.MaySeeOrganisation(a.OrganisationID) }

// AllocationInput is an allocation as an officer asks for it.
type AllocationInput struct {
	OrganisationID uint
	ClusterID      uint
	BlockKind      string
	GPUCount       int // 0: the block's size
	From, To       string
	OwnGPUs        bool
	UUIDs          []string // GPUs named one by one
	Nodes          []string // every GPU seen on these nodes
	NodesLater     bool     // nodes not seen yet are kept, their GPUs identified later (a cluster that is down)
	Note           string
}

// ParseUUIDList splits a textarea of GPU UUIDs (one per line, or separated by
// commas or spaces), dropping blanks and duplicates.
func ParseUUIDList(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// Validate checks what can be checked without the database.
func (in *AllocationInput) Validate() FieldErrors {
	errs := FieldErrors{}
	if in.OrganisationID == 0 {
		errs.Add("organisation_id", "form.required")
	}
	if in.ClusterID == 0 {
		errs.Add("cluster_id", "form.required")
	}
	if !slices.Contains(BlockKinds, in.BlockKind) {
		errs.Add("block_kind", "gpu.error.block_kind")
	}
	if size := BlockSize(in.BlockKind); size > 0 {
		if in.GPUCount == 0 {
			in.GPUCount = size
		}
		if in.GPUCount != size {
			errs.Add("gpu_count", "gpu.error.block_count")
		}
	}
	if in.GPUCount < 1 || in.GPUCount > 100000 {
		errs.Add("gpu_count", "gpu.error.gpu_count")
	}
	from, errFrom := ParseDate(strings.TrimSpace(in.From))
	if errFrom != nil {
		errs.Add("from", "gpu.error.date")
	}
	to, errTo := ParseDate(strings.TrimSpace(in.To))
	if errTo != nil {
		errs.Add("to", "gpu.error.date")
	}
	if errFrom == nil && errTo == nil && to.Before(from) {
		errs.Add("to", "gpu.error.period")
	}
	if len(in.UUIDs) == 0 && len(in.Nodes) == 0 {
		errs.Add("gpus", "gpu.error.no_gpus")
	}
	for _, u := range in.UUIDs {
		errs.CheckText("uuids", u, MaxGPUUUID, SingleLine)
	}
	for _, n := range in.Nodes {
		errs.CheckText("gpus", n, MaxNodeName, SingleLine)
	}
	errs.CheckText("note", in.Note, MaxAllocationNote, MultiLine)
	return errs
}

// AllocationConflictError says which GPU is already allocated, and where,
// for an overlapping period. It matches ErrConflict.
type AllocationConflictError struct {
	GPU          string
	AllocationID uint
	Team         string // the Korean name of the team that holds it
	From, To     string
}

func (e *AllocationConflictError) Error() string {
	return fmt.Sprintf("GPU %s is already in allocation %d (%s, %s – %s)", e.GPU, e.AllocationID, e.Team, e.From, e.To)
}

// Is makes errors.Is(err, ErrConflict) true.
func (e *AllocationConflictError) Is(target error) bool { return target == ErrConflict }

// allocLockKey serialises allocation writes on PostgreSQL, so that two
// officers allocating the same GPU at once cannot both pass the overlap check.
const allocLockKey = 0x4b41_4955_414c_4f43 // "KAIUALOC"

// LockAllocations takes, on PostgreSQL, the lock that serialises allocation
// writes, for the rest of the transaction tx (nothing on SQLite, whose
// writes are serialised already). A transaction that also appends to the
// audit trail takes it first: every writer takes the two in that order.
func LockAllocations(tx *gorm.DB) error {
	if tx.Dialector.Name() != "postgres" {
		return nil
	}
	if err := tx.Exec("SELECT pg_advisory_xact_lock"+schemaLockKey, allocLockKey).Error; err != nil {
		return fmt.Errorf("store: allocation lock: %w", err)
	}
	return nil
}

// CreateAllocation checks and saves an allocation with its audit row. Field
// problems come back as FieldErrors with ErrInvalid; a GPU already allocated
// for an overlapping period as *AllocationConflictError (ErrConflict).
func CreateAllocation(ctx context.Context, db *gorm.DB, in AllocationInput, by *User, now time.Time) (*Allocation, FieldErrors, error) {
	if by == nil {
		return nil, nil, fmt.Errorf("store: create allocation: %w", ErrForbidden)
	}
	in.From, in.To, in.Note = strings.TrimSpace(in.From), strings.TrimSpace(in.To), strings.TrimSpace(in.Note)
	errs := in.Validate()
	if errs.Any() {
		return nil, errs, fmt.Errorf("store: create allocation: %w", ErrInvalid)
	}
	var a *Allocation
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := LockAllocations(tx); err != nil {
			return err
		}
		org, err := GetOrganisation(ctx, tx, in.OrganisationID)
		if errors.Is(err, ErrNotFound) {
			errs.Add("organisation_id", "gpu.error.team")
			return ErrInvalid
		} else if err != nil {
			return err
		}
		if !in.OwnGPUs {
			// Only a team whose agreement in this programme holds for every
			// day of the period receives GPUs.
			from, _ := ParseDate(in.From)
			to, _ := ParseDate(in.To)
			if _, err := CheckStanding(ctx, tx, org.ID, from, to); errors.Is(err, ErrNoAgreement) {
				errs.Add("organisation_id", "gpu.error.not_selected")
			} else if err != nil {
				return err
			}
		}
		cluster, err := GetCluster(ctx, tx, in.ClusterID)
		if errors.Is(err, ErrNotFound) {
			errs.Add("cluster_id", "gpu.error.cluster")
			return ErrInvalid
		} else if err != nil {
			return err
		}
		gpus, err := ListClusterGPUs(ctx, tx, cluster.ID)
		if err != nil {
			return err
		}
		// Nodes the cluster has not reported yet (it is down) are kept to be
		// identified later when the officer says so; otherwise they are
		// unknown.
		var pending []string
		nodes := in.Nodes
		if in.NodesLater {
			known := map[string]bool{}
			for _, g := range gpus {
				known[g.Node] = true
			}
			nodes = nil
			for _, n := range in.Nodes {
				if known[n] {
					nodes = append(nodes, n)
				} else {
					pending = append(pending, n)
				}
			}
		}
		picked := pickGPUs(gpus, in.UUIDs, nodes, errs)
		if len(picked) > in.GPUCount {
			errs.Add("gpus", "gpu.error.too_many")
		}
		for _, g := range picked {
			// A GPU recorded without a model (dcgm-exporter without
			// modelName) is of the cluster's registered model.
			if !BlockFits(in.BlockKind, cmp.Or(g.Model, cluster.GPUModel)) {
				errs.Add("gpus", "gpu.error.block_model")
			}
		}
		if errs.Any() {
			return ErrInvalid
		}
		uuids := make([]string, len(picked))
		for i, g := range picked {
			uuids[i] = g.UUID
		}
		a = &Allocation{OrganisationID: org.ID, ClusterID: cluster.ID, BlockKind: in.BlockKind, GPUCount: in.GPUCount,
			PeriodFrom: in.From, PeriodTo: in.To, OwnGPUs: in.OwnGPUs, Note: in.Note, CreatedByID: by.ID,
			PendingNodes: strings.Join(pending, "\n")}
		if start, end := a.Span(); true {
			if err := checkOverlapExcept(ctx, tx, 0, uuids, start, end); err != nil {
				return err
			}
		}
		if err := tx.Omit("GPUs").Create(a).Error; err != nil {
			return err
		}
		rows := make([]AllocationGPU, len(uuids))
		for i, u := range uuids {
			rows[i] = AllocationGPU{AllocationID: a.ID, GPUUUID: u}
		}
		if len(rows) > 0 {
			if err := tx.CreateInBatches(rows, 500).Error; err != nil {
				return err
			}
		}
		a.GPUs = rows
		own := ""
		if in.OwnGPUs {
			own = ", the team's own GPUs"
		}
		if len(pending) > 0 {
			own += ", nodes to identify: " + strings.Join(pending, ", ")
		}
		summary := fmt.Sprintf("%s: %s block (%d GPUs, %d named) on %s, %s – %s%s", org.NameKO, in.BlockKind, in.GPUCount,
			len(uuids), cluster.Name, in.From, in.To, own)
		return RecordAudit(ctx, tx, ActorOf(by), "allocation.create", "allocation", strconv.FormatUint(uint64(a.ID), 10), summary, now)
	})
	switch {
	case errors.Is(err, ErrInvalid):
		return nil, errs, fmt.Errorf("store: create allocation: %w", ErrInvalid)
	case err != nil:
		var conflict *AllocationConflictError
		if errors.As(err, &conflict) {
			return nil, nil, err
		}
		return nil, nil, fmt.Errorf("store: create allocation: %w", err)
	}
	return a, nil, nil
}

// pickGPUs resolves the named UUIDs and nodes to the cluster's discovered
// GPUs, reporting names it does not know.
func pickGPUs(gpus []GPU, uuids, nodes []string, errs FieldErrors) []GPU {
	byUUID := make(map[string]GPU, len(gpus))
	byNode := map[string][]GPU{}
	for _, g := range gpus {
		byUUID[g.UUID] = g
		byNode[g.Node] = append(byNode[g.Node], g)
	}
	var out []GPU
	seen := map[string]bool{}
	add := func(g GPU) {
		if !seen[g.UUID] {
			seen[g.UUID] = true
			out = append(out, g)
		}
	}
	for _, u := range uuids {
		g, ok := byUUID[u]
		if !ok {
			errs.Add("uuids", "gpu.error.unknown_gpu")
			continue
		}
		add(g)
	}
	for _, n := range nodes {
		gs, ok := byNode[n]
		if !ok {
			errs.Add("nodes", "gpu.error.unknown_node")
			continue
		}
		for _, g := range gs {
			add(g)
		}
	}
	return out
}

// SelectedTeams returns the teams GPU blocks and names can go to: those
// whose agreement in this programme is in force (AgreementTeams).
func SelectedTeams(ctx context.Context, db *gorm.DB) ([]Organisation, error) {
	return AgreementTeams(ctx, db)
}

// GetAllocation loads an allocation with its team, cluster and GPUs.
func GetAllocation(ctx context.Context, db *gorm.DB, id uint) (*Allocation, error) {
	var a Allocation
	err := db.WithContext(ctx).Preload("Organisation").Preload("Cluster").
		Preload("GPUs", func(db *gorm.DB) *gorm.DB { return db.Order("gpu_uuid") }).First(&a, id).Error
	if err != nil {
		return nil, notFound(fmt.Sprintf("store: allocation %d", id), err)
	}
	return &a, nil
}

// AllocationRow is one allocation in a list, with the number of GPUs named
// (in it now: replaced ones not counted).
type AllocationRow struct {
	Allocation
	Named int
}

// ListAllocations returns allocations, newest period first: every one, or
// only those of one organisation when orgID is not nil.
func ListAllocations(ctx context.Context, db *gorm.DB, orgID *uint) ([]AllocationRow, error) {
	var as []Allocation
	q := db.WithContext(ctx).Preload("Organisation").Preload("Cluster").Order("period_from DESC, id DESC")
	if orgID != nil {
		q = q.Where("organisation_id = ?", *orgID)
	}
	if err := q.Find(&as).Error; err != nil {
		return nil, fmt.Errorf("store: list allocations: %w", err)
	}
	var counts []struct {
		AllocationID uint
		N            int
	}
	if err := db.WithContext(ctx).Model(&AllocationGPU{}).Select("allocation_id, COUNT(*) AS n").Where("left_at IS NULL").
		Group("allocation_id").Scan(&counts).Error; err != nil {
		return nil, fmt.Errorf("store: list allocations: %w", err)
	}
	named := map[uint]int{}
	for _, c := range counts {
		named[c.AllocationID] = c.N
	}
	out := make([]AllocationRow, len(as))
	for i, a := range as {
		out[i] = AllocationRow{Allocation: a, Named: named[a.ID]}
	}
	return out, nil
}
