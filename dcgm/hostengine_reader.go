package dcgm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	godcgm "github.com/NVIDIA/go-dcgm/pkg/dcgm"
)

// This file runs inside the reader process only (ReaderMain): it is the one
// place that calls go-dcgm.

// The watched fields. The profiling fields (GR engine / SM active) need
// DCGM's profiling module and a datacenter GPU; when watching them fails the
// reader watches the others and says so in its ready line. MIG instances
// (GPU instances) have their own framebuffer and profiling counters;
// utilisation, power, energy and XIDs belong to the parent GPU.
var (
	gpuFields = [][]godcgm.Short{
		{
			godcgm.DCGM_FI_DEV_GPU_UTIL, godcgm.DCGM_FI_DEV_FB_USED, godcgm.DCGM_FI_DEV_POWER_USAGE,
			godcgm.DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION, godcgm.DCGM_FI_DEV_XID_ERRORS,
			godcgm.DCGM_FI_PROF_GR_ENGINE_ACTIVE, godcgm.DCGM_FI_PROF_SM_ACTIVE,
		},
		{
			godcgm.DCGM_FI_DEV_GPU_UTIL, godcgm.DCGM_FI_DEV_FB_USED, godcgm.DCGM_FI_DEV_POWER_USAGE,
			godcgm.DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION, godcgm.DCGM_FI_DEV_XID_ERRORS,
		},
	}
	migFields = [][]godcgm.Short{
		{godcgm.DCGM_FI_DEV_FB_USED, godcgm.DCGM_FI_PROF_GR_ENGINE_ACTIVE, godcgm.DCGM_FI_PROF_SM_ACTIVE},
		{godcgm.DCGM_FI_DEV_FB_USED},
	}
)

type dcgmEntity struct {
	group godcgm.Field_Entity_Group
	id    uint
}

// watchSet is one DCGM entity group watched with one field group.
type watchSet struct {
	group     godcgm.GroupHandle
	fields    godcgm.FieldHandle
	hasGroup  bool
	hasFields bool
	since     time.Time // GetValuesSince's next timestamp
}

// hostengineBackend is the reader's go-dcgm session.
type hostengineBackend struct {
	opts    ReaderOptions
	node    string
	cleanup func() // dcgm.Shutdown; set only after a successful Init
	sets    []*watchSet
	devices map[dcgmEntity]ReaderGPU
	names   int // for unique group names
}

func newHostengineBackend(o ReaderOptions) *hostengineBackend {
	return &hostengineBackend{opts: o, node: nodeOf(o.Address)}
}

// open connects and sets up the watches. After a failed Init it returns at
// once: go-dcgm has no connection then, and any further call would crash.
func (b *hostengineBackend) open(ctx context.Context) (ReaderInfo, error) {
	addr, socket := b.opts.Address, "0"
	if rest, ok := strings.CutPrefix(addr, "unix://"); ok {
		addr, socket = rest, "1"
	} else if strings.HasPrefix(addr, "/") {
		socket = "1"
	}
	cleanup, err := godcgm.Init(godcgm.Standalone, addr, socket)
	if err != nil {
		return ReaderInfo{}, classifyInitError(err)
	}
	b.cleanup = cleanup
	info, err := b.setup()
	if err != nil {
		b.close()
		return ReaderInfo{}, failure(kindSetup, err)
	}
	return info, nil
}

func classifyInitError(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "libdcgm") && strings.Contains(msg, "not found"):
		return failure(kindNoLibrary, err)
	case strings.HasPrefix(msg, "error connecting"):
		return failure(kindConnect, err)
	}
	return failure(kindSetup, err)
}

func (b *hostengineBackend) setup() (ReaderInfo, error) {
	info := ReaderInfo{Node: b.node}
	gpus, err := godcgm.GetEntityGroupEntities(godcgm.FE_GPU)
	if err != nil {
		return info, err
	}
	if len(gpus) == 0 {
		return info, errors.New("nv-hostengine sees no GPUs")
	}
	b.devices = map[dcgmEntity]ReaderGPU{}
	var whole []dcgmEntity
	for _, id := range gpus {
		d, err := godcgm.GetDeviceInfo(id)
		if err != nil || d.UUID == "" {
			info.Warnings = append(info.Warnings, fmt.Sprintf("GPU %d skipped: no device information: %v", id, err))
			continue
		}
		e := dcgmEntity{godcgm.FE_GPU, id}
		b.devices[e] = ReaderGPU{Index: int(id), UUID: d.UUID, Model: d.Identifiers.Model}
		whole = append(whole, e)
	}
	if len(whole) == 0 {
		return info, fmt.Errorf("no usable GPU among %d: %s", len(gpus), strings.Join(info.Warnings, "; "))
	}
	set, warn, err := b.watch(whole, gpuFields)
	if err != nil {
		return info, err
	}
	b.sets = append(b.sets, set)
	if warn != "" {
		info.Warnings = append(info.Warnings, "GR engine / SM active not available: "+warn)
	}

	if migs := b.migInstances(&info); len(migs) > 0 {
		set, warn, err := b.watch(migs, migFields)
		switch {
		case err != nil:
			info.Warnings = append(info.Warnings, "MIG instances not watched: "+err.Error())
			for _, e := range migs {
				delete(b.devices, e)
			}
		default:
			b.sets = append(b.sets, set)
			if warn != "" {
				info.Warnings = append(info.Warnings, "MIG GR engine / SM active not available: "+warn)
			}
		}
	}

	for _, d := range b.devices {
		info.GPUs = append(info.GPUs, d)
	}
	sort.Slice(info.GPUs, func(i, j int) bool {
		if info.GPUs[i].Index != info.GPUs[j].Index {
			return info.GPUs[i].Index < info.GPUs[j].Index
		}
		return info.GPUs[i].MIG < info.GPUs[j].MIG
	})
	return info, nil
}

// migInstances lists the GPU instances of MIG-enabled GPUs and records them
// as devices of their parent GPU.
func (b *hostengineBackend) migInstances(info *ReaderInfo) []dcgmEntity {
	h, err := godcgm.GetGPUInstanceHierarchy()
	if err != nil {
		info.Warnings = append(info.Warnings, "MIG instances not read: "+err.Error())
		return nil
	}
	var migs []dcgmEntity
	for i := uint(0); i < h.Count && i < uint(len(h.EntityList)); i++ {
		e := h.EntityList[i]
		if e.Entity.EntityGroupId != godcgm.FE_GPU_I {
			continue
		}
		parent, ok := b.devices[dcgmEntity{godcgm.FE_GPU, e.Parent.EntityId}]
		if !ok {
			continue
		}
		me := dcgmEntity{godcgm.FE_GPU_I, e.Entity.EntityId}
		g := ReaderGPU{
			Index: parent.Index, UUID: parent.UUID, Model: parent.Model,
			MIG: strconv.FormatUint(uint64(e.Info.NvmlInstanceId), 10),
		}
		if e.Info.NvmlProfileSlices > 0 {
			g.Profile = strconv.FormatUint(uint64(e.Info.NvmlProfileSlices), 10) + "g"
		}
		b.devices[me] = g
		migs = append(migs, me)
	}
	return migs
}

// watch makes a group of entities and watches the first field list DCGM
// accepts, sampling every Interval and keeping KeepAge of history for
// GetValuesSince. warn is the error of the fuller lists it fell back from.
func (b *hostengineBackend) watch(entities []dcgmEntity, choices [][]godcgm.Short) (*watchSet, string, error) {
	b.names++
	name := fmt.Sprintf("kaiportal-%d-%d-%d", os.Getpid(), time.Now().UnixNano(), b.names)
	set := &watchSet{since: time.UnixMicro(0)} // 0: everything DCGM keeps
	var err error
	if set.group, err = godcgm.CreateGroup(name); err != nil {
		return nil, "", err
	}
	set.hasGroup = true
	for _, e := range entities {
		if err := godcgm.AddEntityToGroup(set.group, e.group, e.id); err != nil {
			b.release(set)
			return nil, "", err
		}
	}
	var warn string
	for i, fields := range choices {
		if set.hasFields {
			_ = godcgm.FieldGroupDestroy(set.fields)
			set.hasFields = false
		}
		if set.fields, err = godcgm.FieldGroupCreate(fmt.Sprintf("%s-f%d", name, i), fields); err != nil {
			break
		}
		set.hasFields = true
		err = godcgm.WatchFieldsWithGroupEx(set.fields, set.group, b.opts.Interval.Microseconds(), b.opts.KeepAge.Seconds(), 0)
		if err == nil {
			return set, warn, nil
		}
		if warn == "" {
			warn = err.Error()
		}
	}
	b.release(set)
	return nil, "", err
}

func (b *hostengineBackend) release(set *watchSet) {
	if set.hasFields {
		_ = godcgm.FieldGroupDestroy(set.fields)
		set.hasFields = false
	}
	if set.hasGroup {
		_ = godcgm.DestroyGroup(set.group)
		set.hasGroup = false
	}
}

// poll returns every value DCGM recorded since the previous poll.
func (b *hostengineBackend) poll(context.Context) (Poll, error) {
	var values []godcgm.FieldValue_v2
	for _, set := range b.sets {
		vs, next, err := godcgm.GetValuesSince(set.group, set.fields, set.since)
		if err != nil {
			return Poll{}, failure(kindPoll, err)
		}
		if next.After(set.since) {
			set.since = next
		}
		values = append(values, vs...)
	}
	samples, skipped := samplesFromValues(values, b.devices, b.node)
	return Poll{Samples: samples, Skipped: skipped}, nil
}

// close releases the groups and disconnects (only after a successful Init).
func (b *hostengineBackend) close() {
	if b.cleanup == nil {
		return
	}
	for _, set := range b.sets {
		b.release(set)
	}
	b.sets = nil
	b.cleanup()
	b.cleanup = nil
}

// samplesFromValues turns DCGM's field values into samples: per device,
// values in time order, a new sample starting when a field repeats (DCGM
// samples every field once per interval, a few microseconds apart). Blank,
// failed and non-finite values are counted in skipped, as are values of
// devices the reader does not know.
func samplesFromValues(values []godcgm.FieldValue_v2, devices map[dcgmEntity]ReaderGPU, node string) ([]Sample, int) {
	byDevice := map[dcgmEntity][]godcgm.FieldValue_v2{}
	var order []dcgmEntity
	skipped := 0
	for _, v := range values {
		e := dcgmEntity{v.EntityGroupId, v.EntityID}
		if _, ok := devices[e]; !ok {
			skipped++
			continue
		}
		if _, seen := byDevice[e]; !seen {
			order = append(order, e)
		}
		byDevice[e] = append(byDevice[e], v)
	}
	var samples []Sample
	for _, e := range order {
		vs := byDevice[e]
		sort.SliceStable(vs, func(i, j int) bool { return vs[i].TS < vs[j].TS })
		d := devices[e]
		var cur *Sample
		have := map[godcgm.Short]bool{}
		flush := func() {
			if cur != nil {
				samples = append(samples, *cur)
			}
			cur = nil
			clear(have)
		}
		for _, v := range vs {
			x, ok := fieldNumber(v)
			if !ok {
				skipped++
				continue
			}
			if have[v.FieldID] {
				flush()
			}
			if cur == nil {
				cur = &Sample{UUID: d.UUID, MIG: d.MIG, Profile: d.Profile, Model: d.Model, Node: node, Index: d.Index}
			}
			have[v.FieldID] = true
			if t := time.UnixMicro(v.TS).UTC(); t.After(cur.Time) {
				cur.Time = t
			}
			switch v.FieldID {
			case godcgm.DCGM_FI_DEV_GPU_UTIL:
				cur.Util = &x
			case godcgm.DCGM_FI_PROF_GR_ENGINE_ACTIVE:
				cur.GRActive = &x
			case godcgm.DCGM_FI_PROF_SM_ACTIVE:
				cur.SMActive = &x
			case godcgm.DCGM_FI_DEV_FB_USED:
				cur.FBUsed = &x
			case godcgm.DCGM_FI_DEV_POWER_USAGE:
				cur.Power = &x
			case godcgm.DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION:
				cur.EnergyMJ = &x
			case godcgm.DCGM_FI_DEV_XID_ERRORS:
				cur.XIDs = &x
			}
		}
		flush()
	}
	sort.SliceStable(samples, func(i, j int) bool {
		a, b := samples[i], samples[j]
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		if a.Index != b.Index {
			return a.Index < b.Index
		}
		return a.MIG < b.MIG
	})
	return samples, skipped
}

// fieldNumber is a value as a number; false for a failed, blank (DCGM's
// sentinel values) or non-finite value, or a non-numeric field.
func fieldNumber(v godcgm.FieldValue_v2) (float64, bool) {
	if v.Status != 0 {
		return 0, false
	}
	switch v.FieldType {
	case godcgm.DCGM_FT_DOUBLE:
		f := v.Float64()
		if math.IsNaN(f) || math.IsInf(f, 0) || f >= godcgm.DCGM_FT_FP64_BLANK {
			return 0, false
		}
		return f, true
	case godcgm.DCGM_FT_INT64:
		i := v.Int64()
		if godcgm.IsInt64Blank(i) {
			return 0, false
		}
		return float64(i), true
	}
	return 0, false
}

// nodeOf names the host an nv-hostengine address points at: its host
// part, or this machine's name for a local socket or loopback address.
func nodeOf(address string) string {
	host := address
	if strings.HasPrefix(address, "/") || strings.HasPrefix(address, "unix://") {
		host = ""
	} else if h, _, err := net.SplitHostPort(address); err == nil {
		host = h
	}
	if ip := net.ParseIP(host); host == "" || host == "localhost" || (ip != nil && ip.IsLoopback()) {
		if name, err := os.Hostname(); err == nil {
			return name
		}
	}
	return host
}
