package dcgm

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The dcgm-exporter metric families the portal reads. Everything else in a
// scrape (clocks, temperatures, PCIe counters…) is parsed and ignored.
const (
	MetricGPUUtil  = "DCGM_FI_DEV_GPU_UTIL"
	MetricGRActive = "DCGM_FI_PROF_GR_ENGINE_ACTIVE"
	MetricSMActive = "DCGM_FI_PROF_SM_ACTIVE"
	MetricFBUsed   = "DCGM_FI_DEV_FB_USED"
	MetricPower    = "DCGM_FI_DEV_POWER_USAGE"
	MetricEnergy   = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"
	MetricXID      = "DCGM_FI_DEV_XID_ERRORS"
)

// field is one of the Sample fields a metric family fills.
type field uint8

const (
	fieldUtil field = iota
	fieldGR
	fieldSM
	fieldFB
	fieldPower
	fieldEnergy
	fieldXID
	numFields
)

// fieldMetrics lists the families in the fixed order they are read, so the
// first series seen for a device (which names its node and model) does not
// depend on map iteration.
var fieldMetrics = [numFields]string{
	fieldUtil:   MetricGPUUtil,
	fieldGR:     MetricGRActive,
	fieldSM:     MetricSMActive,
	fieldFB:     MetricFBUsed,
	fieldPower:  MetricPower,
	fieldEnergy: MetricEnergy,
	fieldXID:    MetricXID,
}

// deviceWide reports whether a field belongs to the physical GPU even when
// dcgm-exporter repeats it on every MIG instance's series (it does for power,
// the energy counter and XID errors). Such values are given to the parent GPU
// so that summing a GPU's devices counts its energy once.
func (f field) deviceWide() bool {
	return f == fieldPower || f == fieldEnergy || f == fieldXID
}

// Blank sentinels: DCGM reports "no value" as the largest values of a field's
// type (DCGM_FT_INT32_BLANK 0x7ffffff0, DCGM_FT_INT64_BLANK
// 0x7ffffffffffffff0, DCGM_FT_FP64_BLANK 140737488355328.0), and older
// exporters printed them as numbers.
const (
	blankInt32 = 0x7ffffff0
	blankInt64 = 9.2e18 // 0x7ffffffffffffff0 as a float64 is 9.223372036854776e18
	blankFP64  = 140737488355328.0
)

// valid reports whether v is a usable value of field f: not NaN or infinite,
// not negative, not a DCGM blank sentinel and within the field's range.
func (f field) valid(v float64) bool {
	if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return false
	}
	switch f {
	case fieldUtil:
		return v <= 100
	case fieldGR, fieldSM:
		return v <= 1
	case fieldPower:
		return v < blankFP64
	case fieldFB, fieldXID:
		return v < blankInt32 // int64 fields, but no GPU has 2 PiB of memory or XID 2^31
	case fieldEnergy:
		return v < blankInt64
	}
	return true
}

func fieldOf(name string) (field, bool) {
	for f, m := range fieldMetrics {
		if m == name {
			return field(f), true
		}
	}
	return 0, false
}

// keptLabels are the job labels copied into Sample.Labels.
var keptLabels = [...]string{"namespace", "pod", "container", "hpc_job"}

// ParseExporter reads one dcgm-exporter scrape (Prometheus text format 0.0.4,
// parsed with prometheus/common expfmt) and returns one Sample per device,
// all stamped with at (dcgm-exporter does not send timestamps).
//
// Devices are keyed by GPU UUID (label UUID or uuid) and, for a MIG instance,
// GPU_I_ID; a series without a UUID cannot be attributed and is skipped.
// Node comes from Hostname or hostname, the index from gpu (or the number in
// device="nvidiaN"), the model from modelName. Power, the energy counter and
// XID errors are properties of the physical GPU: on a MIG instance's series
// they are given to the parent GPU's sample.
//
// Duplicate series (dcgm-exporter repeats a GPU's series once per pod or
// Slurm job sharing it) are not added up: each field of a device takes the
// largest of its duplicates' values. For the energy counter the duplicates
// are copies of one per-GPU counter, so the largest is simply the latest
// reading. The distinct job labels of the duplicates are kept, joined by
// commas in sorted order (pod="a,b", namespace="ml" when all agree).
//
// Blank values (a series with no value, or a DCGM blank sentinel), NaN,
// ±Inf, negative and out-of-range values are dropped and counted in
// Poll.Skipped. A document expfmt cannot parse is an error.
func ParseExporter(r io.Reader, at time.Time) (Poll, error) {
	var buf bytes.Buffer
	if l, ok := r.(interface{ Len() int }); ok { // bytes.Reader, strings.Reader: read in one allocation
		buf.Grow(l.Len() + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(r); err != nil {
		return Poll{}, fmt.Errorf("dcgm-exporter: read: %w", err)
	}
	return parseExporter(buf.Bytes(), at)
}

// parseExporter parses a whole scrape held in memory.
func parseExporter(raw []byte, at time.Time) (Poll, error) {
	doc, skipped := cleanText(raw)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(doc))
	if err != nil {
		return Poll{}, fmt.Errorf("dcgm-exporter: %w", err)
	}
	b := pollBuilder{at: at, devices: map[deviceID]*deviceAcc{}}
	b.skipped = skipped
	for f, name := range fieldMetrics {
		if fam := families[name]; fam != nil {
			b.family(field(f), fam)
		}
	}
	return b.poll(), nil
}

// cleanText prepares a scrape for expfmt, which rejects a whole document for
// one series without a value, a trailing blank after a value, a CRLF line end
// or a missing final newline. It drops value-less sample lines (counting
// those of the families the portal reads), trims trailing blanks and
// carriage returns and adds the final newline. The input is returned as it
// is, without copying, when nothing needs changing.
func cleanText(raw []byte) ([]byte, int) {
	var out []byte // nil until the first change
	skipped := 0
	start := 0
	for start < len(raw) {
		end := bytes.IndexByte(raw[start:], '\n')
		next := len(raw)
		hasNL := end >= 0
		if hasNL {
			end += start
			next = end + 1
		} else {
			end = len(raw)
		}
		line := raw[start:end]
		trimmed := bytes.TrimRight(line, " \t\r")
		drop := false
		if name, blank := blankValue(trimmed); blank {
			drop = true
			if _, ours := fieldOf(name); ours {
				skipped++
			}
		}
		changed := drop || len(trimmed) != len(line) || !hasNL
		if changed && out == nil {
			out = make([]byte, 0, len(raw)+1)
			out = append(out, raw[:start]...)
		}
		if out != nil && !drop {
			out = append(out, trimmed...)
			out = append(out, '\n')
		}
		start = next
	}
	if out == nil {
		return raw, skipped
	}
	return out, skipped
}

// blankValue reports whether a (right-trimmed) line is a sample line whose
// value is missing, and the metric name it names. Comments, empty lines and
// lines it cannot make sense of are left for expfmt to judge.
func blankValue(line []byte) (string, bool) {
	i := 0
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	if i == len(line) || line[i] == '#' {
		return "", false
	}
	nameStart := i
	for i < len(line) && line[i] != '{' && line[i] != ' ' && line[i] != '\t' {
		i++
	}
	name := string(line[nameStart:i])
	if !metricName(name) {
		return "", false
	}
	if i < len(line) && line[i] == '{' {
		// Walk to the closing brace, minding quoted label values.
		inQuote := false
		closed := false
		for i++; i < len(line); i++ {
			c := line[i]
			switch {
			case inQuote && c == '\\':
				i++ // skip the escaped byte
			case c == '"':
				inQuote = !inQuote
			case !inQuote && c == '}':
				closed = true
			}
			if closed {
				i++
				break
			}
		}
		if !closed {
			return "", false
		}
		if name == "" { // {"name", labels} form: the name is the first quoted string
			name = quotedName(line[nameStart:i])
		}
	}
	for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
		i++
	}
	return name, i == len(line)
}

// metricName reports whether s is empty (the {"name",…} form) or a classic
// metric name; anything else (an HTML page, say) is left for expfmt to reject.
func metricName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// quotedName returns the first quoted string of a {"name",…} label block.
func quotedName(block []byte) string {
	q := bytes.IndexByte(block, '"')
	if q < 0 {
		return ""
	}
	rest := block[q+1:]
	e := bytes.IndexByte(rest, '"')
	if e < 0 {
		return ""
	}
	return string(rest[:e])
}

// deviceID identifies a device within one scrape.
type deviceID struct {
	uuid string
	mig  string
}

// deviceAcc gathers the series of one device.
type deviceAcc struct {
	s      Sample
	have   [numFields]bool
	vals   [numFields]float64
	jobs   []jobLabels // distinct non-empty job label sets, from the device's own series
	hasOwn bool        // some series belonged to the device itself (not only a MIG copy)
}

type jobLabels [len(keptLabels)]string

type pollBuilder struct {
	at      time.Time
	devices map[deviceID]*deviceAcc
	skipped int
}

// family folds one metric family into the devices.
func (b *pollBuilder) family(f field, fam *dto.MetricFamily) {
	for _, m := range fam.GetMetric() {
		v, ok := metricValue(m)
		if !ok || !f.valid(v) {
			b.skipped++
			continue
		}
		var (
			uuid, mig, profile, host, model, gpu, device string
			jobs                                         jobLabels
			hasJob                                       bool
		)
		for _, lp := range m.GetLabel() {
			val := lp.GetValue()
			switch lp.GetName() {
			case "UUID", "uuid":
				if uuid == "" {
					uuid = val
				}
			case "GPU_I_ID":
				mig = val
			case "GPU_I_PROFILE":
				profile = val
			case "Hostname", "hostname":
				if host == "" {
					host = val
				}
			case "modelName":
				model = val
			case "gpu":
				gpu = val
			case "device":
				device = val
			default:
				for i, k := range keptLabels {
					if lp.GetName() == k && val != "" {
						jobs[i] = val
						hasJob = true
					}
				}
			}
		}
		if uuid == "" {
			b.skipped++
			continue
		}
		own := true
		if mig != "" && f.deviceWide() {
			mig, profile, own = "", "", false
		}
		id := deviceID{uuid: uuid, mig: mig}
		d := b.devices[id]
		if d == nil {
			d = &deviceAcc{s: Sample{
				UUID: uuid, MIG: mig, Profile: profile, Model: model, Node: host,
				Index: gpuIndex(gpu, device), Time: b.at,
			}}
			b.devices[id] = d
		}
		if own {
			d.hasOwn = true
			if hasJob && !slices.Contains(d.jobs, jobs) {
				d.jobs = append(d.jobs, jobs)
			}
		}
		if d.s.Model == "" {
			d.s.Model = model
		}
		if d.s.Node == "" {
			d.s.Node = host
		}
		if !d.have[f] || v > d.vals[f] {
			d.have[f], d.vals[f] = true, v
		}
	}
}

// metricValue returns the value of a gauge, counter or untyped series.
func metricValue(m *dto.Metric) (float64, bool) {
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue(), true
	case m.Counter != nil:
		return m.Counter.GetValue(), true
	case m.Untyped != nil:
		return m.Untyped.GetValue(), true
	}
	return 0, false
}

// gpuIndex reads the GPU index from the gpu label, or from device="nvidiaN".
func gpuIndex(gpu, device string) int {
	if n, err := strconv.Atoi(gpu); err == nil && n >= 0 {
		return n
	}
	if rest, ok := strings.CutPrefix(device, "nvidia"); ok {
		if n, err := strconv.Atoi(rest); err == nil && n >= 0 {
			return n
		}
	}
	return 0
}

func (b *pollBuilder) poll() Poll {
	p := Poll{Samples: make([]Sample, 0, len(b.devices)), Skipped: b.skipped}
	for _, d := range b.devices {
		s := d.s
		ptrs := [numFields]**float64{&s.Util, &s.GRActive, &s.SMActive, &s.FBUsed, &s.Power, &s.EnergyMJ, &s.XIDs}
		vals := d.vals // one allocation per device for all its fields
		for f := range numFields {
			if d.have[f] {
				*ptrs[f] = &vals[f]
			}
		}
		s.Labels = joinJobs(d.jobs)
		p.Samples = append(p.Samples, s)
	}
	SortSamples(p.Samples)
	return p
}

// joinJobs turns the distinct job label sets of a device's duplicate series
// into one label map: per label, the values in the order of the sorted sets,
// joined by commas, or the single value when all sets agree.
func joinJobs(jobs []jobLabels) map[string]string {
	if len(jobs) == 0 {
		return nil
	}
	slices.SortFunc(jobs, func(a, b jobLabels) int {
		for i := range a {
			if c := cmp.Compare(a[i], b[i]); c != 0 {
				return c
			}
		}
		return 0
	})
	labels := make(map[string]string, len(keptLabels))
	for i, k := range keptLabels {
		same := true
		for _, j := range jobs[1:] {
			if j[i] != jobs[0][i] {
				same = false
				break
			}
		}
		if same {
			if jobs[0][i] != "" {
				labels[k] = jobs[0][i]
			}
			continue
		}
		vals := make([]string, len(jobs))
		for n, j := range jobs {
			vals[n] = j[i]
		}
		labels[k] = strings.Join(vals, ",")
	}
	return labels
}

// SortSamples orders samples by node, GPU index, UUID and MIG instance (a
// whole GPU before its instances, instances by number).
func SortSamples(samples []Sample) {
	slices.SortFunc(samples, func(a, b Sample) int {
		if c := cmp.Compare(a.Node, b.Node); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Index, b.Index); c != 0 {
			return c
		}
		if c := cmp.Compare(a.UUID, b.UUID); c != 0 {
			return c
		}
		return compareMIG(a.MIG, b.MIG)
	})
}

func compareMIG(a, b string) int {
	if a == b {
		return 0
	}
	ai, aerr := strconv.Atoi(a)
	bi, berr := strconv.Atoi(b)
	if aerr == nil && berr == nil {
		return cmp.Compare(ai, bi)
	}
	if c := cmp.Compare(len(a), len(b)); c != 0 { // "" first, then shorter
		return c
	}
	return cmp.Compare(a, b)
}

// WriteExporter writes samples in dcgm-exporter's text format (the seven
// families the portal reads, with dcgm-exporter's labels), so that tests and
// demos can serve a fake exporter. Nil fields are left out. As dcgm-exporter
// does, a MIG instance's series repeat its GPU's power, energy counter and
// XID (taken from the GPU's whole-GPU sample when the instance has none).
func WriteExporter(w io.Writer, samples []Sample) error {
	parents := map[string]*Sample{}
	for i := range samples {
		if samples[i].MIG == "" {
			parents[samples[i].UUID] = &samples[i]
		}
	}
	help := [numFields]string{
		fieldUtil:   "GPU utilization (in %).",
		fieldGR:     "Ratio of time the graphics engine is active.",
		fieldSM:     "The ratio of cycles an SM has at least 1 warp assigned.",
		fieldFB:     "Framebuffer memory used (in MiB).",
		fieldPower:  "Power draw (in W).",
		fieldEnergy: "Total energy consumption since boot (in mJ).",
		fieldXID:    "Value of the last XID error encountered.",
	}
	typ := [numFields]string{fieldEnergy: "counter"}
	var buf bytes.Buffer
	for f := range numFields {
		t := typ[f]
		if t == "" {
			t = "gauge"
		}
		fmt.Fprintf(&buf, "# HELP %s %s\n# TYPE %s %s\n", fieldMetrics[f], help[f], fieldMetrics[f], t)
		for i := range samples {
			s := &samples[i]
			v := [numFields]*float64{s.Util, s.GRActive, s.SMActive, s.FBUsed, s.Power, s.EnergyMJ, s.XIDs}[f]
			if p := parents[s.UUID]; v == nil && s.MIG != "" && field(f).deviceWide() && p != nil {
				v = [numFields]*float64{p.Util, p.GRActive, p.SMActive, p.FBUsed, p.Power, p.EnergyMJ, p.XIDs}[f]
			}
			if v == nil {
				continue
			}
			buf.WriteString(fieldMetrics[f])
			fmt.Fprintf(&buf, `{gpu="%d",UUID="%s",device="nvidia%d",modelName="%s"`, s.Index, esc(s.UUID), s.Index, esc(s.Model))
			if s.MIG != "" {
				fmt.Fprintf(&buf, `,GPU_I_PROFILE="%s",GPU_I_ID="%s"`, esc(s.Profile), esc(s.MIG))
			}
			fmt.Fprintf(&buf, `,Hostname="%s"`, esc(s.Node))
			for _, k := range keptLabels {
				if lv, ok := s.Labels[k]; ok {
					fmt.Fprintf(&buf, `,%s="%s"`, k, esc(lv))
				}
			}
			buf.WriteString("} ")
			buf.WriteString(strconv.FormatFloat(*v, 'g', -1, 64))
			buf.WriteByte('\n')
		}
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// labelEscaper escapes a label value for the text format (backslash, double
// quote and line feed; everything else, Korean included, goes as it is).
var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func esc(v string) string { return labelEscaper.Replace(v) }

// ExporterOptions configure a dcgm-exporter scrape.
type ExporterOptions struct {
	// Client does the requests; nil means a client of its own with Timeout
	// and TLS.
	Client *http.Client
	// Timeout bounds one scrape (default 10 s); the poll's context can cut
	// it shorter.
	Timeout time.Duration
	// BearerToken, if set, is sent as "Authorization: Bearer …".
	BearerToken string
	// TLS configures HTTPS for the client made here (ignored with Client).
	TLS *tls.Config
	// MaxBytes caps the response body (default 64 MiB); a longer answer is
	// an error rather than a truncated parse.
	MaxBytes int64
	// Now stamps the samples (default time.Now).
	Now func() time.Time
}

// ExporterSource scrapes one dcgm-exporter /metrics endpoint.
type ExporterSource struct {
	url    string
	opts   ExporterOptions
	client *http.Client
	own    bool // the client was made here and is closed by Close
}

// NewExporterSource returns a Source that scrapes url.
func NewExporterSource(url string, opts ExporterOptions) *ExporterSource {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 64 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &ExporterSource{url: url, opts: opts, client: opts.Client}
	if s.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if opts.TLS != nil {
			tr.TLSClientConfig = opts.TLS
		}
		s.client = &http.Client{Transport: tr, Timeout: opts.Timeout}
		s.own = true
	}
	return s
}

// URL is the scraped endpoint.
func (s *ExporterSource) URL() string { return s.url }

// Poll scrapes the endpoint once and parses the answer.
func (s *ExporterSource) Poll(ctx context.Context) (Poll, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return Poll{}, fmt.Errorf("dcgm-exporter %s: %w", s.url, err)
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1")
	if s.opts.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+s.opts.BearerToken)
	}
	at := s.opts.Now()
	resp, err := s.client.Do(req)
	if err != nil {
		return Poll{}, fmt.Errorf("dcgm-exporter %s: %w", s.url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
		return Poll{}, fmt.Errorf("dcgm-exporter %s: HTTP %s: %s", s.url, resp.Status, strings.TrimSpace(string(snippet)))
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, s.opts.MaxBytes+1))
	if err != nil {
		return Poll{}, fmt.Errorf("dcgm-exporter %s: read: %w", s.url, err)
	}
	if int64(len(body)) > s.opts.MaxBytes {
		return Poll{}, fmt.Errorf("dcgm-exporter %s: %w (over %d bytes)", s.url, ErrTooLarge, s.opts.MaxBytes)
	}
	p, err := parseExporter(body, at)
	if err != nil {
		return Poll{}, fmt.Errorf("%s: %w", s.url, err)
	}
	return p, nil
}

// ErrTooLarge is returned for a scrape longer than ExporterOptions.MaxBytes.
var ErrTooLarge = errors.New("answer too large")

// Close releases idle connections of a client made by NewExporterSource.
func (s *ExporterSource) Close() error {
	if s.own {
		s.client.CloseIdleConnections()
	}
	return nil
}
