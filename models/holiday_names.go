package models

import "strings"

// holidayNamesEN are the English names of Korean public holidays, by the
// Korean names the built-in table, KASI's special-day data (특일 정보) and
// common calendars use.
var holidayNamesEN = map[string]string{
	"신정":     "New Year's Day",
	"1월1일":   "New Year's Day",
	"1월 1일":  "New Year's Day",
	"설날":     "Seollal (Lunar New Year)",
	"삼일절":    "Independence Movement Day",
	"3·1절":   "Independence Movement Day",
	"노동절":    "Labour Day",
	"어린이날":   "Children's Day",
	"부처님오신날": "Buddha's Birthday",
	"석가탄신일":  "Buddha's Birthday",
	"현충일":    "Memorial Day",
	"제헌절":    "Constitution Day",
	"광복절":    "Liberation Day",
	"추석":     "Chuseok",
	"개천절":    "National Foundation Day",
	"한글날":    "Hangeul Day",
	"기독탄신일":  "Christmas Day",
	"성탄절":    "Christmas Day",
	"국군의 날":  "Armed Forces Day",
	"대체공휴일":  "Substitute holiday",
	"대체휴일":   "Substitute holiday",
	"임시공휴일":  "Temporary holiday",
}

// HolidayNameEN returns the English name of a Korean holiday name: each part
// of a name joined with "·", substitutes and temporary holidays with what
// they stand for, 전날/다음날 of 설날 and 추석, and election days. A name it
// does not know is returned as it is.
func HolidayNameEN(ko string) string {
	ko = strings.TrimSpace(ko)
	if ko == "" {
		return ""
	}
	if strings.Contains(ko, "·") && !strings.HasPrefix(ko, "3·1") {
		parts := strings.Split(ko, "·")
		// "대체공휴일(설날·추석)": the separator is inside the brackets.
		if strings.Count(ko, "(") == 0 {
			for i, p := range parts {
				parts[i] = HolidayNameEN(p)
			}
			return strings.Join(parts, " · ")
		}
	}
	if en, ok := holidayNamesEN[ko]; ok {
		return en
	}
	for _, kind := range []string{"대체공휴일", "임시공휴일"} {
		if inner, ok := strings.CutPrefix(ko, kind+"("); ok {
			inner = strings.TrimSuffix(inner, ")")
			parts := strings.Split(inner, "·")
			for i, p := range parts {
				parts[i] = HolidayNameEN(p)
			}
			return holidayNamesEN[kind] + " (" + strings.Join(parts, ", ") + ")"
		}
	}
	if base, ok := strings.CutSuffix(ko, " 전날"); ok {
		return "Day before " + HolidayNameEN(base)
	}
	if base, ok := strings.CutSuffix(ko, " 다음날"); ok {
		return "Day after " + HolidayNameEN(base)
	}
	switch {
	case strings.Contains(ko, "대통령선거"):
		return "Presidential election day"
	case strings.Contains(ko, "국회의원선거"):
		return "National Assembly election day"
	case strings.Contains(ko, "지방선거"):
		return "Local elections day"
	}
	return ko
}
