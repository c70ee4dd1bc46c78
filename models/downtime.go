package models

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Downtime is a window in which a cluster's provider took GPUs out of
// service: planned maintenance or an outage, of the whole cluster or of some
// of its nodes or GPUs (Scope). Its time is neither idle nor unobserved: it
// is left out of the expected time of the GPUs in scope and shown as down.
// Windows are recorded by an officer, with the reason, and audited.
type Downtime struct {
	ID          uint      `gorm:"primaryKey"`
	ClusterID   uint      `gorm:"not null;index"`
	Start       time.Time `gorm:"column:start_at;not null"` // UTC
	End         time.Time `gorm:"column:end_at;not null"`   // UTC, exclusive
	Kind        string    `gorm:"size:16;not null"`         // DowntimeMaintenance or DowntimeOutage
	Reason      string    `gorm:"type:text;not null"`
	CreatedByID uint      `gorm:"not null"`
	CreatedAt   time.Time
	// Scope is what was down: ScopeCluster (every GPU of the cluster, the
	// not yet identified ones of its allocations too), ScopeNodes or
	// ScopeGPUs (the GPUs of the nodes, or the GPUs, that Targets names).
	Scope   string `gorm:"size:8;not null;default:cluster"`
	Targets string `gorm:"type:text;not null;default:''"` // node names or GPU UUIDs, one a line
}

// The scopes of a downtime window.
const (
	ScopeCluster = "cluster"
	ScopeNodes   = "nodes"
	ScopeGPUs    = "gpus"
)

// Whole reports whether the window takes the whole cluster down.
func (d Downtime) Whole() bool { return d.Scope == "" || d.Scope == ScopeCluster }

// TargetList lists the nodes or GPUs the window names (none for the whole cluster).
func (d Downtime) TargetList() []string { return ParseUUIDList(d.Targets) }

// Covers reports whether the window takes down the GPU uuid on node.
func (d Downtime) Covers(uuid, node string) bool {
	switch d.Scope {
	case ScopeNodes:
		return node != "" && slices.Contains(d.TargetList(), node)
	case ScopeGPUs:
		return slices.Contains(d.TargetList(), uuid)
	}
	return true
}

// TableName names the downtime table.
func (Downtime) TableName() string { return "downtimes" }

// The kinds of downtime.
const (
	DowntimeMaintenance = "maintenance"
	DowntimeOutage      = "outage"
)

// DowntimeInput is the officer's form: start and end in KST
// ("2006-01-02T15:04", as a datetime-local field sends them).
type DowntimeInput struct {
	ClusterID  uint
	Start, End string
	Kind       string
	Reason     string
	// Scope is ScopeCluster ("" too), ScopeNodes or ScopeGPUs; Targets the
	// node names or GPU UUIDs, separated by commas, spaces or lines.
	Scope   string
	Targets string
}

const downtimeLayout = "2006-01-02T15:04"

// parse checks the form and returns the window.
func (in DowntimeInput) parse() (Downtime, FieldErrors) {
	errs := FieldErrors{}
	d := Downtime{ClusterID: in.ClusterID, Kind: strings.TrimSpace(in.Kind), Reason: strings.TrimSpace(in.Reason)}
	var err error
	if d.Start, err = time.ParseInLocation(downtimeLayout, strings.TrimSpace(in.Start), KST); err != nil {
		errs.Add("start", "gpu.downtime.error.start")
	}
	if d.End, err = time.ParseInLocation(downtimeLayout, strings.TrimSpace(in.End), KST); err != nil {
		errs.Add("end", "gpu.downtime.error.end")
	} else if !errs.Any() && !d.End.After(d.Start) {
		errs.Add("end", "gpu.downtime.error.order")
	}
	if d.Kind != DowntimeMaintenance && d.Kind != DowntimeOutage {
		errs.Add("kind", "gpu.downtime.error.kind")
	}
	if d.Reason == "" {
		errs.Add("reason", "gpu.downtime.error.reason")
	} else if len([]rune(d.Reason)) > 500 {
		errs.Add("reason", "gpu.downtime.error.reason_long")
	}
	switch d.Scope = strings.TrimSpace(in.Scope); d.Scope {
	case "", ScopeCluster:
		d.Scope = ScopeCluster
	case ScopeNodes, ScopeGPUs:
		targets := ParseUUIDList(in.Targets)
		switch {
		case len(targets) > 0:
		case d.Scope == ScopeNodes:
			errs.Add("targets", "gpu.downtime.error.targets_nodes")
		default:
			errs.Add("targets", "gpu.downtime.error.targets_gpus")
		}
		d.Targets = strings.Join(targets, "\n")
	default:
		errs.Add("scope", "gpu.downtime.error.scope")
	}
	d.Start, d.End = d.Start.UTC(), d.End.UTC()
	return d, errs
}

// checkTargets refuses node names and GPU UUIDs that the cluster has not
// reported: a window can take down only GPUs the portal knows. It returns
// the message id of the first problem, or "".
func checkTargets(d Downtime, gpus []GPU) string {
	if d.Whole() {
		return ""
	}
	known := map[string]bool{}
	for _, g := range gpus {
		if d.Scope == ScopeNodes {
			known[g.Node] = true
		} else {
			known[g.UUID] = true
		}
	}
	for _, t := range d.TargetList() {
		if !known[t] {
			if d.Scope == ScopeNodes {
				return "gpu.downtime.error.unknown_node"
			}
			return "gpu.downtime.error.unknown_gpu"
		}
	}
	return ""
}

// scopeSummary says what a window took down, for the audit trail.
func (d Downtime) scopeSummary() string {
	if d.Whole() {
		return "whole cluster"
	}
	return d.Scope + " " + strings.Join(d.TargetList(), ", ")
}

// CreateDowntime records a downtime window with its audit row.
func CreateDowntime(ctx context.Context, db *gorm.DB, in DowntimeInput, by *User, now time.Time) (*Downtime, FieldErrors, error) {
	if by == nil {
		return nil, nil, fmt.Errorf("store: record downtime: %w", ErrForbidden)
	}
	d, errs := in.parse()
	if errs.Any() {
		return nil, errs, fmt.Errorf("store: record downtime: %w", ErrInvalid)
	}
	d.CreatedByID = by.ID
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		cl, err := GetCluster(ctx, tx, d.ClusterID)
		if err != nil {
			return err
		}
		if !d.Whole() {
			gpus, err := ListClusterGPUs(ctx, tx, cl.ID)
			if err != nil {
				return err
			}
			if id := checkTargets(d, gpus); id != "" {
				errs.Add("targets", id)
				return ErrInvalid
			}
		}
		if err := tx.Create(&d).Error; err != nil {
			return err
		}
		summary := fmt.Sprintf("%s: %s %s – %s KST (%s): %s", cl.Name, d.Kind, d.Start.In(KST).Format("2006-01-02 15:04"),
			d.End.In(KST).Format("2006-01-02 15:04"), d.scopeSummary(), d.Reason)
		return RecordAudit(ctx, tx, ActorOf(by), "downtime.create", "cluster", fmt.Sprint(cl.ID), summary, now)
	})
	if errors.Is(err, ErrInvalid) {
		return nil, errs, fmt.Errorf("store: record downtime: %w", ErrInvalid)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("store: record downtime: %w", err)
	}
	return &d, nil, nil
}

// ListDowntimes returns a cluster's downtime windows, latest first.
func ListDowntimes(ctx context.Context, db *gorm.DB, clusterID uint) ([]Downtime, error) {
	var ds []Downtime
	if err := db.WithContext(ctx).Where("cluster_id = ?", clusterID).Order("start_at DESC, id DESC").Find(&ds).Error; err != nil {
		return nil, fmt.Errorf("store: downtime of cluster %d: %w", clusterID, err)
	}
	return ds, nil
}

// DownSeconds is how much of [from, to) a cluster's downtime windows of the
// whole cluster cover, overlapping windows counted once.
func DownSeconds(ctx context.Context, db *gorm.DB, clusterID uint, from, to time.Time) (float64, error) {
	if !to.After(from) {
		return 0, nil
	}
	ds, err := downtimesOf(ctx, db, clusterID, from, to)
	if err != nil {
		return 0, err
	}
	return coveredSeconds(wholeCluster(ds), from, to), nil
}

// wholeCluster are the windows that take the whole cluster down.
func wholeCluster(ds []Downtime) []Downtime {
	var out []Downtime
	for _, d := range ds {
		if d.Whole() {
			out = append(out, d)
		}
	}
	return out
}

// downtimesFor are the windows that take down the GPU uuid on node.
func downtimesFor(ds []Downtime, uuid, node string) []Downtime {
	var out []Downtime
	for _, d := range ds {
		if d.Covers(uuid, node) {
			out = append(out, d)
		}
	}
	return out
}

// downtimesOf lists a cluster's downtime windows that overlap [from, to).
func downtimesOf(ctx context.Context, db *gorm.DB, clusterID uint, from, to time.Time) ([]Downtime, error) {
	var ds []Downtime
	err := db.WithContext(ctx).Where("cluster_id = ? AND start_at < ? AND end_at > ?", clusterID, to.UTC(), from.UTC()).
		Find(&ds).Error
	if err != nil {
		return nil, fmt.Errorf("store: downtime of cluster %d: %w", clusterID, err)
	}
	return ds, nil
}

// coveredSeconds is the union of the windows clipped to [from, to).
func coveredSeconds(ds []Downtime, from, to time.Time) float64 {
	slices.SortFunc(ds, func(a, b Downtime) int { return a.Start.Compare(b.Start) })
	var total time.Duration
	cur := from
	for _, d := range ds {
		s, e := d.Start, d.End
		if s.Before(cur) {
			s = cur
		}
		if e.After(to) {
			e = to
		}
		if e.After(s) {
			total += e.Sub(s)
			cur = e
		}
	}
	return total.Seconds()
}

// MaxDowntimeFileBytes bounds an imported downtime CSV.
const MaxDowntimeFileBytes = 1 << 20

// DowntimeFileError says what is wrong with an imported downtime CSV: the
// line (1 is the header; 0: the file as a whole) and the message.
type DowntimeFileError struct {
	Line      int
	MessageID string
}

func (e *DowntimeFileError) Error() string {
	return fmt.Sprintf("downtime file, line %d: %s", e.Line, e.MessageID)
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *DowntimeFileError) Is(target error) bool { return target == ErrInvalid }

// ImportDowntimes records the downtime windows of a CSV file (UTF-8, a BOM
// allowed) with the header start,end,kind,reason and, optionally, the
// columns scope,targets: start and end in KST as "2006-01-02 15:04" (or with
// a T), kind maintenance or outage, scope cluster (or empty), nodes or gpus
// and targets the node names or GPU UUIDs separated by spaces or
// semicolons. Every row is checked first; one wrong row imports nothing.
// One audit row names the file and the number of windows.
func ImportDowntimes(ctx context.Context, db *gorm.DB, clusterID uint, name string, data []byte, by *User, now time.Time) (int, error) {
	if by == nil {
		return 0, fmt.Errorf("store: import downtime: %w", ErrForbidden)
	}
	ds, ferr := parseDowntimeCSV(clusterID, data)
	if ferr != nil {
		return 0, ferr
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		cl, err := GetCluster(ctx, tx, clusterID)
		if err != nil {
			return err
		}
		var gpus []GPU
		for i := range ds {
			ds[i].CreatedByID = by.ID
			if ds[i].Whole() {
				continue
			}
			if gpus == nil {
				if gpus, err = ListClusterGPUs(ctx, tx, cl.ID); err != nil {
					return err
				}
			}
			if id := checkTargets(ds[i], gpus); id != "" {
				return &DowntimeFileError{Line: i + 2, MessageID: id}
			}
		}
		if err := tx.CreateInBatches(ds, 200).Error; err != nil {
			return err
		}
		summary := fmt.Sprintf("%s: %d downtime windows imported from %s", cl.Name, len(ds), name)
		return RecordAudit(ctx, tx, ActorOf(by), "downtime.import", "cluster", fmt.Sprint(cl.ID), summary, now)
	})
	var fe *DowntimeFileError
	if errors.As(err, &fe) {
		return 0, fe
	}
	if err != nil {
		return 0, fmt.Errorf("store: import downtime: %w", err)
	}
	return len(ds), nil
}

func parseDowntimeCSV(clusterID uint, data []byte) ([]Downtime, *DowntimeFileError) {
	if len(data) > MaxDowntimeFileBytes {
		return nil, &DowntimeFileError{MessageID: "gpu.downtime.import.too_large"}
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1 // four, or six with the scope
	r.TrimLeadingSpace = true
	recs, err := r.ReadAll()
	if err != nil {
		line := 0
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			line = pe.Line
		}
		return nil, &DowntimeFileError{Line: line, MessageID: "gpu.downtime.import.malformed"}
	}
	header := []string{"start", "end", "kind", "reason", "scope", "targets"}
	if len(recs) == 0 || (len(recs[0]) != 4 && len(recs[0]) != 6) || !slices.Equal(downtimeHeader(recs[0]), header[:len(recs[0])]) {
		return nil, &DowntimeFileError{Line: 1, MessageID: "gpu.downtime.import.header"}
	}
	width := len(recs[0])
	if len(recs) == 1 {
		return nil, &DowntimeFileError{MessageID: "gpu.downtime.import.empty"}
	}
	ds := make([]Downtime, 0, len(recs)-1)
	for i, rec := range recs[1:] {
		if len(rec) != width {
			return nil, &DowntimeFileError{Line: i + 2, MessageID: "gpu.downtime.import.malformed"}
		}
		in := DowntimeInput{ClusterID: clusterID, Start: strings.Replace(strings.TrimSpace(rec[0]), " ", "T", 1),
			End: strings.Replace(strings.TrimSpace(rec[1]), " ", "T", 1), Kind: rec[2], Reason: rec[3]}
		if width == 6 {
			in.Scope, in.Targets = strings.ToLower(strings.TrimSpace(rec[4])), rec[5]
		}
		d, errs := in.parse()
		for _, f := range []string{"start", "end", "kind", "reason", "scope", "targets"} {
			if id, ok := errs[f]; ok {
				return nil, &DowntimeFileError{Line: i + 2, MessageID: id}
			}
		}
		ds = append(ds, d)
	}
	return ds, nil
}

func downtimeHeader(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToLower(strings.TrimSpace(s))
	}
	return out
}
