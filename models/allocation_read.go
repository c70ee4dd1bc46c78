package models

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
)

// TelemetryRange reads the from/to days (KST, both included) of a telemetry
// query; without them it is the last week of the allocation up to today.
func (a *Allocation) TelemetryRange(fromS, toS string, now time.Time) (from, to Date, errs FieldErrors) {
	errs = FieldErrors{}
	first, last := a.Period()
	switch today := DateOf(now); {
	case today.Before(first): // not started: its first week
		from, to = first, earlierDate(first.AddDays(6), last)
	case last.Before(today): // over: its last week
		from, to = laterDate(last.AddDays(-6), first), last
	default:
		from, to = laterDate(today.AddDays(-6), first), today
	}
	if s := strings.TrimSpace(toS); s != "" {
		d, err := ParseDate(s)
		if err != nil {
			errs.Add("to", "gpu.error.date")
		} else {
			to = d
		}
	}
	if s := strings.TrimSpace(fromS); s != "" {
		d, err := ParseDate(s)
		if err != nil {
			errs.Add("from", "gpu.error.date")
		} else {
			from = d
		}
	}
	if !errs.Any() && to.Before(from) {
		errs.Add("to", "gpu.error.period")
	}
	return from, to, errs
}

func earlierDate(a, b Date) Date {
	if b.Before(a) {
		return b
	}
	return a
}

func laterDate(a, b Date) Date {
	if b.After(a) {
		return b
	}
	return a
}

// AllocationRead is what the page of an allocation shows for a range of
// days: its GPUs as discovered, the usage (of one GPU when one is chosen),
// the usage of each GPU, the breakdown by workload, the series the charts
// draw and the allocation's history.
type AllocationRead struct {
	GPUs      []GPU
	Usage     Usage
	PerGPU    map[string]GPUUsage
	Workloads []WorkloadUsage
	Series    []SeriesPoint
	Step      time.Duration
	History   []AllocationChange
}

// ReadAllocation reads the allocation's page for the days from to to (KST,
// both included), of the GPU uuid or of all of them ("").
func ReadAllocation(ctx context.Context, db *gorm.DB, a *Allocation, uuid string, from, to Date, now time.Time) (*AllocationRead, error) {
	start, end := from.Start(), to.AddDays(1).Start()
	r := &AllocationRead{}
	var err error
	if r.GPUs, err = AllocatedGPUs(ctx, db, a.ID); err != nil {
		return nil, err
	}
	if r.Usage, err = AllocationGPUSummary(ctx, db, a.ID, uuid, start, end, now); err != nil {
		return nil, err
	}
	if r.Workloads, err = AllocationWorkloads(ctx, db, a, uuid, start, end); err != nil {
		return nil, err
	}
	if r.PerGPU, err = AllocationGPUUsage(ctx, db, a, start, end); err != nil {
		return nil, err
	}
	if r.Series, r.Step, err = AllocationSeries(ctx, db, a, start, end, uuid); err != nil {
		return nil, err
	}
	if r.History, err = ListAllocationChanges(ctx, db, a.ID); err != nil {
		return nil, err
	}
	return r, nil
}
