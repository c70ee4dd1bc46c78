package models

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
)

// AllocationChange is one change to an allocation after it was made: who
// changed what, when and why. The history is kept; rows are never edited.
type AllocationChange struct {
	ID           uint      `gorm:"primaryKey"`
	AllocationID uint      `gorm:"not null;index"`
	Kind         string    `gorm:"size:16;not null"`   // one of the ChangeKinds
	Detail       string    `gorm:"type:text;not null"` // dates, UUIDs and instants, in no language
	Reason       string    `gorm:"type:text;not null"`
	ByID         uint      `gorm:"not null"`
	By           *User     `gorm:"constraint:OnDelete:RESTRICT"`
	At           time.Time `gorm:"not null"`
}

// Kinds of allocation change.
const (
	ChangePeriod  = "period"  // the period extended or shortened
	ChangeEnd     = "end"     // ended early
	ChangeAdd     = "add"     // GPUs added as they were supplied
	ChangeReplace = "replace" // a failed GPU replaced
	ChangeNodes   = "nodes"   // GPUs of nodes allocated while the cluster was down identified
)

// ChangeKinds lists the kinds of change (the i18n keys gpu.change.<kind>).
var ChangeKinds = []string{ChangePeriod, ChangeEnd, ChangeAdd, ChangeReplace, ChangeNodes}

// Ended reports whether the allocation was ended early.
func (a *Allocation) Ended() bool { return a.EndReason != "" }

// PendingNodeList lists the nodes allocated before their GPUs were seen.
func (a *Allocation) PendingNodeList() []string { return ParseUUIDList(a.PendingNodes) }

// Current lists the GPUs in the allocation now (not replaced).
func (a *Allocation) Current() []AllocationGPU {
	var out []AllocationGPU
	for _, g := range a.GPUs {
		if g.LeftAt == nil {
			out = append(out, g)
		}
	}
	return out
}

// Window is when the GPU belonged to the allocation, clipped to [start, end).
func (g AllocationGPU) Window(start, end time.Time) (time.Time, time.Time) {
	if g.JoinedAt != nil && g.JoinedAt.After(start) {
		start = g.JoinedAt.UTC()
	}
	if g.LeftAt != nil && g.LeftAt.Before(end) {
		end = g.LeftAt.UTC()
	}
	if end.Before(start) {
		end = start
	}
	return start, end
}

// Whole reports whether the GPU belongs to the allocation for its whole period.
func (g AllocationGPU) Whole() bool { return g.JoinedAt == nil && g.LeftAt == nil }

// ListAllocationChanges returns an allocation's history, oldest first.
func ListAllocationChanges(ctx context.Context, db *gorm.DB, allocID uint) ([]AllocationChange, error) {
	var out []AllocationChange
	if err := db.WithContext(ctx).Preload("By").Where("allocation_id = ?", allocID).Order("at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: history of allocation %d: %w", allocID, err)
	}
	return out, nil
}

// PeriodChange extends or shortens an allocation's period.
type PeriodChange struct {
	From, To string // 2006-01-02; From can change only before the period starts
	Reason   string
}

// EndEarly ends an allocation before its last day.
type EndEarly struct {
	LastDay string // 2006-01-02: the new last day, before the old one
	Reason  string // required
}

// GPUAddition adds GPUs as they are supplied, or identifies those of nodes
// allocated while the cluster was down.
type GPUAddition struct {
	UUIDs []string
	Nodes []string
	// At is when the GPUs join (KST, "2006-01-02 15:04", to the minute);
	// empty: from the period's start. GPUs of pending nodes always belong
	// from the start.
	At     string
	Reason string
}

// GPUReplacement takes a failed GPU out and a new one in at one instant.
type GPUReplacement struct {
	Old, New string
	At       string // KST, "2006-01-02 15:04", to the minute
	Reason   string // required
}

// InstantLayout is how an instant is entered: KST, to the minute. A GPU
// that joins or leaves off the hour counts its share of that hour's
// telemetry (see partialHours).
const InstantLayout = "2006-01-02 15:04"

// ParseInstant reads an instant in KST, to the minute.
func ParseInstant(s string) (time.Time, bool) {
	t, err := time.ParseInLocation(InstantLayout, strings.TrimSpace(s), KST)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}

// FormatInstant writes an instant as KST.
func FormatInstant(t time.Time) string { return t.In(KST).Format(InstantLayout) + " KST" }

// changeAllocation runs fn on the allocation under the allocation lock, then
// records the change and its audit row. fn returns the change's detail.
func changeAllocation(ctx context.Context, db *gorm.DB, id uint, kind, reason string, by *User, now time.Time,
	fn func(tx *gorm.DB, a *Allocation, errs FieldErrors) (string, error)) (FieldErrors, error) {
	if by == nil {
		return nil, fmt.Errorf("store: change allocation %d: %w", id, ErrForbidden)
	}
	reason = strings.TrimSpace(reason)
	errs := FieldErrors{}
	errs.CheckText("reason", reason, MaxAllocationNote, MultiLine)
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := LockAllocations(tx); err != nil {
			return err
		}
		a, err := GetAllocation(ctx, tx, id)
		if err != nil {
			return err
		}
		if !checkOpen(a, errs) {
			return ErrInvalid
		}
		detail, err := fn(tx, a, errs)
		if err != nil {
			return err
		}
		if errs.Any() {
			return ErrInvalid
		}
		c := AllocationChange{AllocationID: a.ID, Kind: kind, Detail: detail, Reason: reason, ByID: by.ID, At: now.UTC()}
		if err := tx.Create(&c).Error; err != nil {
			return err
		}
		return RecordAudit(ctx, tx, ActorOf(by), "allocation."+kind, "allocation", strconv.FormatUint(uint64(a.ID), 10),
			fmt.Sprintf("%s: %s", a.Organisation.NameKO, detail), now)
	})
	switch {
	case errors.Is(err, ErrInvalid):
		return errs, fmt.Errorf("store: change allocation %d: %w", id, ErrInvalid)
	case err != nil:
		var conflict *AllocationConflictError
		if errors.As(err, &conflict) {
			return nil, err
		}
		return nil, fmt.Errorf("store: change allocation %d: %w", id, err)
	}
	return nil, nil
}

// ChangeAllocationPeriod extends or shortens the period. The first day can
// move only before the period has started, and never past today; the last
// day never before today (to end an allocation sooner, EndAllocation).
// Every GPU must stay free for the new period, and every join and leave
// inside it; a block lent by the state (not the team's own GPUs) stays
// inside the period of the team's agreement.
func ChangeAllocationPeriod(ctx context.Context, db *gorm.DB, id uint, in PeriodChange, by *User, now time.Time) (FieldErrors, error) {
	return changeAllocation(ctx, db, id, ChangePeriod, in.Reason, by, now, func(tx *gorm.DB, a *Allocation, errs FieldErrors) (string, error) {
		from, errFrom := ParseDate(strings.TrimSpace(cmp.Or(in.From, a.PeriodFrom)))
		to, errTo := ParseDate(strings.TrimSpace(in.To))
		if errFrom != nil {
			errs.Add("from", "gpu.error.date")
		}
		if errTo != nil {
			errs.Add("to", "gpu.error.date")
		}
		if errs.Any() {
			return "", nil
		}
		today := DateOf(now)
		oldFrom, oldTo := a.Period()
		switch {
		case to.Before(from):
			errs.Add("to", "gpu.error.period")
		case from != oldFrom && !today.Before(oldFrom):
			errs.Add("from", "gpu.error.started")
		case from != oldFrom && from.Before(today):
			errs.Add("from", "gpu.error.past")
		case to != oldTo && to.Before(today):
			errs.Add("to", "gpu.error.past")
		case from == oldFrom && to == oldTo:
			errs.Add("to", "gpu.error.unchanged")
		}
		if errs.Any() {
			return "", nil
		}
		// A block lent by the state stays inside the team's agreement.
		if !a.OwnGPUs {
			if _, err := CheckStanding(ctx, tx, a.OrganisationID, from, to); errors.Is(err, ErrNoAgreement) {
				errs.Add("to", "gpu.error.not_selected")
				return "", nil
			} else if err != nil {
				return "", err
			}
		}
		start, end := from.Start().UTC(), to.AddDays(1).Start().UTC()
		var uuids []string
		for _, g := range a.GPUs {
			if (g.JoinedAt != nil && !g.JoinedAt.Before(end)) || (g.LeftAt != nil && g.LeftAt.Before(start)) {
				errs.Add("to", "gpu.error.outside_period")
				return "", nil
			}
			if g.LeftAt == nil {
				uuids = append(uuids, g.GPUUUID)
			}
		}
		if err := checkOverlapExcept(ctx, tx, a.ID, uuids, start, end); err != nil {
			return "", err
		}
		if err := tx.Model(&Allocation{}).Where("id = ?", a.ID).
			Updates(map[string]any{"period_from": from.String(), "period_to": to.String(), "updated_at": now}).Error; err != nil {
			return "", err
		}
		return fmt.Sprintf("%s – %s → %s – %s", a.PeriodFrom, a.PeriodTo, from, to), nil
	})
}

// EndAllocation ends an allocation early, on a last day before the
// current one (today or earlier: the GPUs were given back). It cannot be
// undone: an ended allocation takes no further change. The rule is
// CheckEndEarly's, applied under the allocation lock.
func EndAllocation(ctx context.Context, db *gorm.DB, id uint, in EndEarly, by *User, now time.Time) (FieldErrors, error) {
	return changeAllocation(ctx, db, id, ChangeEnd, in.Reason, by, now, func(tx *gorm.DB, a *Allocation, errs FieldErrors) (string, error) {
		last, ok := checkEndEarly(a, in, errs)
		if !ok {
			return "", nil
		}
		reason := strings.TrimSpace(in.Reason)
		if err := tx.Model(&Allocation{}).Where("id = ?", a.ID).
			Updates(map[string]any{"period_to": last.String(), "end_reason": reason, "updated_at": now}).Error; err != nil {
			return "", err
		}
		return fmt.Sprintf("%s → %s", a.PeriodTo, last), nil
	})
}

// CheckEndEarly checks an early end against the allocation as loaded,
// changing nothing, so that the confirmation page asks only about an end
// that EndAllocation would make: the problems by field, and ErrInvalid
// when there are any.
func CheckEndEarly(a *Allocation, in EndEarly) (FieldErrors, error) {
	errs := FieldErrors{}
	errs.CheckText("reason", strings.TrimSpace(in.Reason), MaxAllocationNote, MultiLine)
	open := checkOpen(a, errs)
	if _, ok := checkEndEarly(a, in, errs); !open || !ok {
		return errs, fmt.Errorf("store: end allocation %d: %w", a.ID, ErrInvalid)
	}
	return nil, nil
}

// checkOpen refuses any change to an allocation that was ended early.
func checkOpen(a *Allocation, errs FieldErrors) bool {
	if a.Ended() {
		errs.Add("form", "gpu.error.ended")
		return false
	}
	return true
}

// requireReason: ending early and replacing a GPU cannot be undone, and
// say why.
func requireReason(reason string, errs FieldErrors) {
	if strings.TrimSpace(reason) == "" {
		errs.Add("reason", "form.required")
	}
}

// checkEndEarly is the rule for ending early: a reason, and a last day in
// the period before the current last day, after every GPU has joined. It
// returns the new last day when errs stayed empty.
func checkEndEarly(a *Allocation, in EndEarly, errs FieldErrors) (Date, bool) {
	requireReason(in.Reason, errs)
	last, err := ParseDate(strings.TrimSpace(in.LastDay))
	if err != nil {
		errs.Add("last_day", "gpu.error.date")
		return last, false
	}
	from, to := a.Period()
	switch {
	case last.Before(from):
		errs.Add("last_day", "gpu.error.period")
	case !last.Before(to):
		errs.Add("last_day", "gpu.error.not_earlier")
	}
	end := last.AddDays(1).Start().UTC()
	for _, g := range a.GPUs {
		if g.JoinedAt != nil && !g.JoinedAt.Before(end) {
			errs.Add("last_day", "gpu.error.outside_period")
			break
		}
	}
	return last, !errs.Any()
}

// AddAllocationGPUs adds GPUs to an allocation as they are supplied, from
// an instant inside the period (refused after it has ended), or identifies
// the GPUs of nodes allocated while the cluster was down (they belong from
// the start). The block never holds more GPUs at once than its size.
func AddAllocationGPUs(ctx context.Context, db *gorm.DB, id uint, in GPUAddition, by *User, now time.Time) (FieldErrors, error) {
	pendingOnly := false
	kind := ChangeAdd
	if len(in.UUIDs) == 0 && len(in.Nodes) > 0 {
		pendingOnly = true // decided below: every node named is pending
	}
	var detail string
	run := func(kind string) (FieldErrors, error) {
		return changeAllocation(ctx, db, id, kind, in.Reason, by, now, func(tx *gorm.DB, a *Allocation, errs FieldErrors) (string, error) {
			if len(in.UUIDs) == 0 && len(in.Nodes) == 0 {
				errs.Add("gpus", "gpu.error.no_gpus")
				return "", nil
			}
			pending := a.PendingNodeList()
			identifying := len(in.UUIDs) == 0 && len(in.Nodes) > 0 && !slices.ContainsFunc(in.Nodes, func(n string) bool { return !slices.Contains(pending, n) })
			start, end := a.Span()
			var at *time.Time
			if !identifying && strings.TrimSpace(in.At) != "" {
				t, ok := ParseInstant(in.At)
				switch {
				case !ok:
					errs.Add("at", "gpu.error.instant")
				case !t.Before(end):
					errs.Add("at", "gpu.error.after_end")
				case t.After(start):
					at = &t
				}
			}
			if !identifying && !now.Before(end) {
				errs.Add("at", "gpu.error.after_end")
			}
			if errs.Any() {
				return "", nil
			}
			gpus, err := ListClusterGPUs(ctx, tx, a.ClusterID)
			if err != nil {
				return "", err
			}
			picked := pickGPUs(gpus, in.UUIDs, in.Nodes, errs)
			current := len(a.Current())
			for _, g := range picked {
				if a.Has(g.UUID) {
					errs.Add("gpus", "gpu.error.in_allocation")
					break
				}
			}
			if current+len(picked) > a.GPUCount {
				errs.Add("gpus", "gpu.error.too_many")
			}
			for _, g := range picked {
				if !BlockFits(a.BlockKind, cmp.Or(g.Model, a.Cluster.GPUModel)) {
					errs.Add("gpus", "gpu.error.block_model")
					break
				}
			}
			if errs.Any() {
				return "", nil
			}
			from := start
			if at != nil {
				from = *at
			}
			uuids := make([]string, len(picked))
			rows := make([]AllocationGPU, len(picked))
			for i, g := range picked {
				uuids[i] = g.UUID
				rows[i] = AllocationGPU{AllocationID: a.ID, GPUUUID: g.UUID, JoinedAt: at}
			}
			if err := checkOverlapExcept(ctx, tx, a.ID, uuids, from, end); err != nil {
				return "", err
			}
			if err := tx.CreateInBatches(rows, 500).Error; err != nil {
				return "", err
			}
			when := "from the start"
			if at != nil {
				when = "from " + FormatInstant(*at)
			}
			if identifying {
				rest := slices.DeleteFunc(slices.Clone(pending), func(n string) bool { return slices.Contains(in.Nodes, n) })
				if err := tx.Model(&Allocation{}).Where("id = ?", a.ID).
					Updates(map[string]any{"pending_nodes": strings.Join(rest, "\n"), "updated_at": now}).Error; err != nil {
					return "", err
				}
				return fmt.Sprintf("%d GPUs of %s %s", len(uuids), strings.Join(in.Nodes, ", "), when), nil
			}
			detail = fmt.Sprintf("%d GPUs %s: %s", len(uuids), when, strings.Join(uuids, ", "))
			return detail, nil
		})
	}
	if pendingOnly {
		a, err := GetAllocation(ctx, db, id)
		if err != nil {
			return nil, fmt.Errorf("store: change allocation %d: %w", id, err)
		}
		pending := a.PendingNodeList()
		if !slices.ContainsFunc(in.Nodes, func(n string) bool { return !slices.Contains(pending, n) }) {
			kind = ChangeNodes
		}
	}
	return run(kind)
}

// ReplaceAllocationGPU takes a GPU of the allocation out and a new one of
// the same cluster in at one instant inside the period: the old GPU counts
// until then, the new one from then. The rule is CheckReplacement's,
// applied under the allocation lock.
func ReplaceAllocationGPU(ctx context.Context, db *gorm.DB, id uint, in GPUReplacement, by *User, now time.Time) (FieldErrors, error) {
	return changeAllocation(ctx, db, id, ChangeReplace, in.Reason, by, now, func(tx *gorm.DB, a *Allocation, errs FieldErrors) (string, error) {
		r, err := checkReplacement(ctx, tx, a, in, errs)
		if err != nil || r == nil {
			return "", err
		}
		if err := tx.Model(&AllocationGPU{}).Where("id = ?", r.old.ID).Update("left_at", r.at).Error; err != nil {
			return "", err
		}
		joined := &r.at
		if start, _ := a.Span(); !r.at.After(start) {
			joined = nil
		}
		if err := tx.Create(&AllocationGPU{AllocationID: a.ID, GPUUUID: r.newUUID, JoinedAt: joined}).Error; err != nil {
			return "", err
		}
		return fmt.Sprintf("%s → %s at %s", r.old.GPUUUID, r.newUUID, FormatInstant(r.at)), nil
	})
}

// CheckReplacement checks a GPU replacement against the allocation as
// loaded, changing nothing, so that the confirmation page asks only about
// a replacement that ReplaceAllocationGPU would make: the problems by field
// and ErrInvalid, or the *AllocationConflictError of a new GPU held by
// another allocation.
func CheckReplacement(ctx context.Context, db *gorm.DB, a *Allocation, in GPUReplacement) (FieldErrors, error) {
	errs := FieldErrors{}
	errs.CheckText("reason", strings.TrimSpace(in.Reason), MaxAllocationNote, MultiLine)
	open := checkOpen(a, errs)
	_, err := checkReplacement(ctx, db.WithContext(ctx), a, in, errs)
	switch {
	case err != nil:
		return nil, err
	case !open || errs.Any():
		return errs, fmt.Errorf("store: replace a GPU of allocation %d: %w", a.ID, ErrInvalid)
	}
	return nil, nil
}

// replacement is a checked GPU replacement.
type replacement struct {
	old     *AllocationGPU
	newUUID string
	at      time.Time
}

// checkReplacement is the rule for replacing a GPU: a reason; the old GPU
// in the allocation now; the new one a GPU of the cluster, not in the
// allocation, fitting the block and free from the instant to the end; the
// instant on the hour, inside the period, after the old GPU joined. It
// returns nil when errs are not empty.
func checkReplacement(ctx context.Context, tx *gorm.DB, a *Allocation, in GPUReplacement, errs FieldErrors) (*replacement, error) {
	requireReason(in.Reason, errs)
	oldUUID, newUUID := strings.TrimSpace(in.Old), strings.TrimSpace(in.New)
	at, ok := ParseInstant(in.At)
	if !ok {
		errs.Add("at", "gpu.error.instant")
	}
	var old *AllocationGPU
	for i := range a.GPUs {
		if a.GPUs[i].GPUUUID == oldUUID && a.GPUs[i].LeftAt == nil {
			old = &a.GPUs[i]
		}
	}
	if old == nil {
		errs.Add("old", "gpu.error.not_in_allocation")
	}
	if newUUID == "" {
		errs.Add("new", "form.required")
	} else if a.Has(newUUID) {
		errs.Add("new", "gpu.error.in_allocation")
	}
	if errs.Any() {
		return nil, nil
	}
	start, end := a.Span()
	switch {
	case !at.Before(end):
		errs.Add("at", "gpu.error.after_end")
	case at.Before(start) || (old.JoinedAt != nil && !at.After(*old.JoinedAt)):
		errs.Add("at", "gpu.error.before_joined")
	}
	gpus, err := ListClusterGPUs(ctx, tx, a.ClusterID)
	if err != nil {
		return nil, err
	}
	picked := pickGPUs(gpus, []string{newUUID}, nil, errs)
	for _, g := range picked {
		if !BlockFits(a.BlockKind, cmp.Or(g.Model, a.Cluster.GPUModel)) {
			errs.Add("new", "gpu.error.block_model")
		}
	}
	if errs.Any() {
		if _, ok := errs["uuids"]; ok {
			errs.Add("new", "gpu.error.unknown_gpu")
			delete(errs, "uuids")
		}
		return nil, nil
	}
	if err := checkOverlapExcept(ctx, tx, a.ID, []string{newUUID}, at, end); err != nil {
		return nil, err
	}
	return &replacement{old: old, newUUID: newUUID, at: at}, nil
}

// checkOverlapExcept refuses GPUs that belong to another allocation at any
// time in [start, end).
func checkOverlapExcept(ctx context.Context, tx *gorm.DB, allocID uint, uuids []string, start, end time.Time) error {
	for chunk := range slices.Chunk(uuids, 1000) {
		var hits []struct {
			GPUUUID      string
			AllocationID uint
			PeriodFrom   string
			PeriodTo     string
			NameKO       string
			JoinedAt     *time.Time
			LeftAt       *time.Time
		}
		err := tx.WithContext(ctx).Table("allocation_gpus AS ag").
			Select("ag.gpu_uuid, a.id AS allocation_id, a.period_from, a.period_to, o.name_ko, ag.joined_at, ag.left_at").
			Joins("JOIN allocations a ON a.id = ag.allocation_id").
			Joins("JOIN organisations o ON o.id = a.organisation_id").
			Where("ag.gpu_uuid IN ? AND a.id <> ? AND a.period_from <= ? AND a.period_to >= ?", chunk, allocID,
				DateOf(end.Add(-time.Nanosecond)).String(), DateOf(start).String()).
			Order("ag.gpu_uuid, a.id").Scan(&hits).Error
		if err != nil {
			return fmt.Errorf("store: allocation overlap: %w", err)
		}
		for _, h := range hits {
			from, _ := ParseDate(h.PeriodFrom)
			to, _ := ParseDate(h.PeriodTo)
			g := AllocationGPU{JoinedAt: h.JoinedAt, LeftAt: h.LeftAt}
			s, e := g.Window(from.Start().UTC(), to.AddDays(1).Start().UTC())
			if s.Before(end) && start.Before(e) {
				return &AllocationConflictError{GPU: h.GPUUUID, AllocationID: h.AllocationID, Team: h.NameKO, From: h.PeriodFrom, To: h.PeriodTo}
			}
		}
	}
	return nil
}
