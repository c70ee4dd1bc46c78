package models

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Import formats of official holiday lists.
const (
	HolidayFormatKASIXML  = "kasi-xml"  // 한국천문연구원 특일 정보 (getRestDeInfo / getHoliDeInfo), XML as served
	HolidayFormatKASIJSON = "kasi-json" // the same with _type=json
	HolidayFormatICal     = "ical"      // iCalendar (RFC 5545), one VEVENT per holiday or per run of days
	HolidayFormatCSV      = "csv"       // date,name_ko[,name_en] with an optional header row
)

// MaxHolidayFileBytes bounds an imported list: a year of holidays is a few
// kilobytes in any of the formats.
const MaxHolidayFileBytes = 1 << 20

// HolidayFileError says why an imported list was refused: a message ID of
// the catalogue, and where in the file when that is known.
type HolidayFileError struct {
	MessageID string
	Line      int    // 1-based line (CSV, iCalendar) or item (KASI); 0 when not known
	Detail    string // the offending value, or the source's own message
}

func (e *HolidayFileError) Error() string {
	return fmt.Sprintf("models: holiday file: %s (line %d: %q)", e.MessageID, e.Line, e.Detail)
}

// Is makes a HolidayFileError an ErrInvalid.
func (e *HolidayFileError) Is(target error) bool { return target == ErrInvalid }

// ParsedHolidayList is what a file says about one year.
type ParsedHolidayList struct {
	Format string
	Year   int
	Days   []Holiday // in date order, one per date (names of one date joined with "·")
	// Ignored counts entries outside Year and entries the source marks as
	// not holidays (KASI isHoliday=N).
	Ignored int
}

type rawHoliday struct {
	date   Date
	nameKO string
	nameEN string
	line   int
}

// ParseHolidayFile reads an official list of public holidays and keeps the
// days of year. The format is recognised from the content: KASI's XML or
// JSON answer, an iCalendar file, or CSV.
func ParseHolidayFile(data []byte, year int) (ParsedHolidayList, error) {
	out := ParsedHolidayList{Year: year}
	if len(data) == 0 {
		return out, &HolidayFileError{MessageID: "holidays.import.error.empty"}
	}
	if len(data) > MaxHolidayFileBytes {
		return out, &HolidayFileError{MessageID: "holidays.import.error.too_large"}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return out, &HolidayFileError{MessageID: "holidays.import.error.encoding"}
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return out, &HolidayFileError{MessageID: "holidays.import.error.encoding"}
	}
	trimmed := bytes.TrimSpace(data)
	var raw []rawHoliday
	var err error
	switch {
	case bytes.HasPrefix(trimmed, []byte("<")):
		out.Format = HolidayFormatKASIXML
		raw, out.Ignored, err = parseKASIXML(trimmed)
	case bytes.HasPrefix(trimmed, []byte("{")):
		out.Format = HolidayFormatKASIJSON
		raw, out.Ignored, err = parseKASIJSON(trimmed)
	case bytes.HasPrefix(bytes.ToUpper(trimmed), []byte("BEGIN:VCALENDAR")):
		out.Format = HolidayFormatICal
		raw, err = parseICal(trimmed)
	default:
		out.Format = HolidayFormatCSV
		raw, err = parseHolidayCSV(trimmed)
	}
	if err != nil {
		return out, err
	}
	byDate := map[Date]*Holiday{}
	for _, r := range raw {
		if r.date.Year != year {
			out.Ignored++
			continue
		}
		name := strings.TrimSpace(r.nameKO)
		if name == "" || utf8.RuneCountInString(name) > 100 || strings.ContainsAny(name, "\x00\r\n") {
			return out, &HolidayFileError{MessageID: "holidays.import.error.name", Line: r.line, Detail: name}
		}
		en := strings.TrimSpace(r.nameEN)
		if en == "" {
			en = HolidayNameEN(name)
		}
		if h, ok := byDate[r.date]; ok {
			if !strings.Contains(h.Name, name) {
				h.Name += "·" + name
				h.NameEN += " · " + en
			}
			continue
		}
		byDate[r.date] = &Holiday{Date: r.date, Name: name, NameEN: en, Substitute: isSubstituteName(name)}
	}
	if len(byDate) == 0 {
		return out, &HolidayFileError{MessageID: "holidays.import.error.no_days", Detail: strconv.Itoa(year)}
	}
	for _, h := range byDate {
		h.Name, h.NameEN = truncRunes(h.Name, 100), truncRunes(h.NameEN, 100)
		out.Days = append(out.Days, *h)
	}
	slices.SortFunc(out.Days, func(a, b Holiday) int { return a.Date.Compare(b.Date) })
	return out, nil
}

// truncRunes cuts s to at most n characters (the column's size).
func truncRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// parseCompactDate reads 20260101, 2026-01-01 or 2026.01.01.
func parseCompactDate(s string) (Date, bool) {
	s = strings.TrimSpace(s)
	s = strings.NewReplacer(".", "-", "/", "-").Replace(strings.TrimSuffix(s, "."))
	layout := time.DateOnly
	if len(s) == 8 && !strings.Contains(s, "-") {
		layout = "20060102"
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return Date{}, false
	}
	return NewDate(t.Year(), t.Month(), t.Day()), true
}

// KASI's special-day service (특일 정보, SpcdeInfoService) answers
// <response><header><resultCode>00</resultCode>…</header><body><items><item>
// <dateKind>01</dateKind><dateName>삼일절</dateName><isHoliday>Y</isHoliday>
// <locdate>20260301</locdate><seq>1</seq></item>…</items><numOfRows>…
// <totalCount>…</body></response>.
type kasiXML struct {
	XMLName    xml.Name `xml:"response"`
	ResultCode string   `xml:"header>resultCode"`
	ResultMsg  string   `xml:"header>resultMsg"`
	Items      []struct {
		DateName  string `xml:"dateName"`
		IsHoliday string `xml:"isHoliday"`
		Locdate   string `xml:"locdate"`
	} `xml:"body>items>item"`
	TotalCount int `xml:"body>totalCount"`
}

func parseKASIXML(data []byte) ([]rawHoliday, int, error) {
	var r kasiXML
	dec := xml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&r); err != nil {
		return nil, 0, &HolidayFileError{MessageID: "holidays.import.error.format", Detail: err.Error()}
	}
	if r.ResultCode != "" && r.ResultCode != "00" {
		return nil, 0, &HolidayFileError{MessageID: "holidays.import.error.source", Detail: r.ResultCode + " " + r.ResultMsg}
	}
	if r.TotalCount > len(r.Items) {
		return nil, 0, &HolidayFileError{MessageID: "holidays.import.error.partial",
			Detail: fmt.Sprintf("%d/%d", len(r.Items), r.TotalCount)}
	}
	var out []rawHoliday
	ignored := 0
	for i, it := range r.Items {
		d, ok := parseCompactDate(it.Locdate)
		if !ok {
			return nil, 0, &HolidayFileError{MessageID: "holidays.import.error.date", Line: i + 1, Detail: it.Locdate}
		}
		if strings.ToUpper(strings.TrimSpace(it.IsHoliday)) == "N" {
			ignored++
			continue
		}
		out = append(out, rawHoliday{date: d, nameKO: it.DateName, line: i + 1})
	}
	return out, ignored, nil
}

// parseKASIJSON reads the same answer with _type=json, where "item" is an
// array, a single object when there is one, or "" when there is none, and
// locdate is a number.
func parseKASIJSON(data []byte) ([]rawHoliday, int, error) {
	var r struct {
		Response struct {
			Header struct {
				ResultCode string `json:"resultCode"`
				ResultMsg  string `json:"resultMsg"`
			} `json:"header"`
			Body struct {
				Items      json.RawMessage `json:"items"`
				TotalCount int             `json:"totalCount"`
			} `json:"body"`
		} `json:"response"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, 0, &HolidayFileError{MessageID: "holidays.import.error.format", Detail: err.Error()}
	}
	if c := r.Response.Header.ResultCode; c != "" && c != "00" {
		return nil, 0, &HolidayFileError{MessageID: "holidays.import.error.source", Detail: c + " " + r.Response.Header.ResultMsg}
	}
	type item struct {
		DateName  string      `json:"dateName"`
		IsHoliday string      `json:"isHoliday"`
		Locdate   json.Number `json:"locdate"`
	}
	var items []item
	var wrap struct {
		Item json.RawMessage `json:"item"`
	}
	raw := bytes.TrimSpace(r.Response.Body.Items)
	if len(raw) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &wrap); err != nil {
			return nil, 0, &HolidayFileError{MessageID: "holidays.import.error.format", Detail: err.Error()}
		}
		it := bytes.TrimSpace(wrap.Item)
		switch {
		case len(it) > 0 && it[0] == '[':
			if err := json.Unmarshal(it, &items); err != nil {
				return nil, 0, &HolidayFileError{MessageID: "holidays.import.error.format", Detail: err.Error()}
			}
		case len(it) > 0 && it[0] == '{':
			var one item
			if err := json.Unmarshal(it, &one); err != nil {
				return nil, 0, &HolidayFileError{MessageID: "holidays.import.error.format", Detail: err.Error()}
			}
			items = []item{one}
		}
	}
	if r.Response.Body.TotalCount > len(items) {
		return nil, 0, &HolidayFileError{MessageID: "holidays.import.error.partial",
			Detail: fmt.Sprintf("%d/%d", len(items), r.Response.Body.TotalCount)}
	}
	var out []rawHoliday
	ignored := 0
	for i, it := range items {
		d, ok := parseCompactDate(it.Locdate.String())
		if !ok {
			return nil, 0, &HolidayFileError{MessageID: "holidays.import.error.date", Line: i + 1, Detail: it.Locdate.String()}
		}
		if strings.ToUpper(strings.TrimSpace(it.IsHoliday)) == "N" {
			ignored++
			continue
		}
		out = append(out, rawHoliday{date: d, nameKO: it.DateName, line: i + 1})
	}
	return out, ignored, nil
}

// parseICal reads the VEVENTs of an iCalendar file: DTSTART (a date, or a
// date-time whose date is taken), DTEND exclusive (one day when absent),
// SUMMARY as the name. A recurring event is refused: a list of legal weight
// names its dates.
func parseICal(data []byte) ([]rawHoliday, error) {
	// Unfold continuation lines (RFC 5545 §3.1).
	text := strings.ReplaceAll(string(data), "\r\n", "\n")
	var lines []string
	var lineNo []int
	for i, l := range strings.Split(text, "\n") {
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(lines) > 0 {
			lines[len(lines)-1] += l[1:]
			continue
		}
		lines = append(lines, l)
		lineNo = append(lineNo, i+1)
	}
	var out []rawHoliday
	in := false
	var start, end Date
	var summary string
	var at int
	for i, l := range lines {
		name, value, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		prop, _, _ := strings.Cut(strings.ToUpper(name), ";") // parameters (VALUE=DATE, LANGUAGE=ko) are not needed
		switch {
		case prop == "BEGIN" && strings.EqualFold(value, "VEVENT"):
			in, start, end, summary, at = true, Date{}, Date{}, "", lineNo[i]
		case !in:
		case prop == "DTSTART" || prop == "DTEND":
			v := strings.TrimSpace(value)
			if len(v) >= 8 {
				v = v[:8]
			}
			d, ok := parseCompactDate(v)
			if !ok {
				return nil, &HolidayFileError{MessageID: "holidays.import.error.date", Line: lineNo[i], Detail: value}
			}
			if prop == "DTSTART" {
				start = d
			} else {
				end = d
			}
		case prop == "SUMMARY":
			summary = strings.NewReplacer(`\,`, ",", `\;`, ";", `\n`, " ", `\N`, " ", `\\`, `\`).Replace(value)
		case prop == "RRULE" || prop == "RDATE":
			return nil, &HolidayFileError{MessageID: "holidays.import.error.recurring", Line: lineNo[i], Detail: value}
		case prop == "END" && strings.EqualFold(value, "VEVENT"):
			in = false
			if start.IsZero() {
				return nil, &HolidayFileError{MessageID: "holidays.import.error.date", Line: at, Detail: "DTSTART"}
			}
			if end.IsZero() || !end.After(start) {
				end = start.AddDays(1)
			}
			if end.Compare(start.AddDays(31)) > 0 {
				return nil, &HolidayFileError{MessageID: "holidays.import.error.date", Line: at, Detail: start.String() + "…" + end.String()}
			}
			for d := start; d.Before(end); d = d.AddDays(1) {
				out = append(out, rawHoliday{date: d, nameKO: summary, line: at})
			}
		}
	}
	if len(out) == 0 {
		return nil, &HolidayFileError{MessageID: "holidays.import.error.format", Detail: "VEVENT"}
	}
	return out, nil
}

// parseHolidayCSV reads date,name_ko[,name_en] rows; a first row whose date
// does not parse is taken as the header.
func parseHolidayCSV(data []byte) ([]rawHoliday, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	var out []rawHoliday
	for n := 1; ; n++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, &HolidayFileError{MessageID: "holidays.import.error.format", Line: n, Detail: err.Error()}
		}
		if len(rec) == 0 || (len(rec) == 1 && strings.TrimSpace(rec[0]) == "") {
			continue
		}
		d, ok := parseCompactDate(rec[0])
		if !ok {
			if n == 1 {
				continue // header
			}
			return nil, &HolidayFileError{MessageID: "holidays.import.error.date", Line: n, Detail: rec[0]}
		}
		if len(rec) < 2 {
			return nil, &HolidayFileError{MessageID: "holidays.import.error.name", Line: n, Detail: rec[0]}
		}
		h := rawHoliday{date: d, nameKO: rec[1], line: n}
		if len(rec) > 2 {
			h.nameEN = rec[2]
		}
		out = append(out, h)
	}
	return out, nil
}
