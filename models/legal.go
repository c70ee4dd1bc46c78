package models

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// The legal wording of a published decision that the portal generates: the
// sentence that states the appeal window, and the statement of further
// remedies (불복 고지). Both are frozen into the decision at publication and
// covered by its content hash, so they are data of the decision, written in
// both languages here beside the rules they state, not screen text.

// DefaultRemediesKO and DefaultRemediesEN state the remedies against a
// decision beyond the portal's objection (행정절차법 제26조): an
// administrative appeal (행정심판법 제27조) or an administrative lawsuit
// (행정소송법 제20조) within 90 days of learning of the decision, or of
// being notified of the result of an objection (행정기본법 제36조④). A call
// may state its own; one left empty uses these.
const (
	DefaultRemediesKO = "이 결정에 불복하는 경우, 결정이 있음을 안 날(이의신청을 한 경우에는 그 결과를 통지받은 날)부터 " +
		"90일 이내에 「행정심판법」에 따른 행정심판을 청구하거나 「행정소송법」에 따른 행정소송을 제기할 수 있습니다."
	DefaultRemediesEN = "If you disagree with this decision, you may request an administrative appeal under the " +
		"Administrative Appeals Act or bring an administrative lawsuit under the Administrative Litigation Act within " +
		"90 days of the day you learned of the decision (or, if you filed an objection, of the day you were notified of its result)."
)

// maxRemedies is the longest statement of remedies a call may carry, in characters.
const maxRemedies = 5000

// Remedies returns the call's statement of further remedies in Korean and
// English, the default for a language the call leaves empty.
func (c *Call) Remedies() (ko, en string) {
	ko, en = strings.TrimSpace(c.RemediesKO), strings.TrimSpace(c.RemediesEN)
	if ko == "" {
		ko = DefaultRemediesKO
	}
	if en == "" {
		en = DefaultRemediesEN
	}
	return ko, en
}

// NoticeTexts are the parts of a decision's notice that the portal
// generates rather than the officer types: the sentence stating the appeal
// window, from the counting rule or the explicit deadline, and the call's
// statement of further remedies.
type NoticeTexts struct {
	WindowKO, WindowEN     string
	RemediesKO, RemediesEN string
}

// ErrNoticeChanged is returned when the generated parts of a notice are no
// longer what the officer was shown (the rule or deadline was changed on the
// form, the day turned, a holiday or the call's remedies changed): the
// decision is not published, and the form shows the new text.
var ErrNoticeChanged = errors.New("the generated notice text changed since it was shown")

// NoticeTextsFor returns what a decision on call published at now would
// state with the counting rule or the explicit deadline: the window as
// DecisionWindow will compute it (the holidays in effect now: imported
// lists, the built-in table and one-off holidays)
// and the call's remedies.
func NoticeTextsFor(ctx context.Context, db *gorm.DB, call *Call, rule CountingRule, explicitClose *time.Time, now time.Time) (NoticeTexts, error) {
	announced := now.UTC().Truncate(time.Microsecond)
	var w Window
	var err error
	if explicitClose != nil {
		w, err = AppealWindowUntil(announced, *explicitClose)
	} else {
		var r HolidayRecords
		if r, err = LoadHolidayRecords(ctx, db); err != nil {
			return NoticeTexts{}, err
		}
		w, _, err = r.WindowAsOf(announced, AppealDays, rule, announced)
	}
	if err != nil {
		return NoticeTexts{}, fmt.Errorf("store: notice of call %d: %w", call.ID, err)
	}
	t := NoticeTexts{WindowKO: WindowSentenceKO(w, AppealDays), WindowEN: WindowSentenceEN(w, AppealDays)}
	t.RemediesKO, t.RemediesEN = call.Remedies()
	return t, nil
}

// windowCounting says how a counted window's days were counted: whether its
// first day was the announcement day (the announcement-day rule, or the
// Civil Act's rule for an announcement at exactly 00:00) and whether its
// last day moved past a Saturday or holiday.
func windowCounting(w Window, days int) (inclusive, moved bool) {
	first := w.Nominal.AddDays(-(days - 1))
	return first == DateOf(w.Opens), w.Nominal != w.LastDay
}

// closingKO is the closing instant as a Korean notice writes it: the last
// day and the hour the period ends, "2025. 8. 14.(목) 24:00" for a period
// that ends with its last day.
func closingKO(w Window) string {
	return dateKO(w.LastDay) + " " + closingClock(w)
}

// closingClock is the hour a window closes on its last day: 24:00 when it
// closes at the midnight that ends it.
func closingClock(w Window) string {
	t := w.Closes.In(KST)
	switch {
	case isMidnight(t):
		return "24:00"
	case t.Second() != 0 || t.Nanosecond() != 0:
		return t.Format("15:04:05")
	}
	return t.Format("15:04")
}

var weekdaysKO = [7]string{"일", "월", "화", "수", "목", "금", "토"}

// dateKO writes a date as Korean official documents do: "2025. 8. 14.(목)".
func dateKO(d Date) string {
	return fmt.Sprintf("%d. %d. %d.(%s)", d.Year, int(d.Month), d.Day, weekdaysKO[d.Weekday()])
}

// dateEN writes a date in English: "Thursday 14 August 2025".
func dateEN(d Date) string {
	return fmt.Sprintf("%s %d %s %d", d.Weekday(), d.Day, d.Month, d.Year)
}

// WindowSentenceKO is the Korean sentence of a notice that states its
// appeal window of days days: the closing instant and how it was counted.
func WindowSentenceKO(w Window, days int) string {
	lead := "결과에 이의가 있는 신청기관은 " + closingKO(w) + "까지 이 포털에서 이의신청을 할 수 있습니다"
	if w.Explicit {
		return lead + "."
	}
	inclusive, moved := windowCounting(w, days)
	how := fmt.Sprintf("공고일은 산입하지 않고 다음 날부터 %d일", days)
	if inclusive {
		how = fmt.Sprintf("공고일을 첫날로 하여 %d일", days)
	}
	if moved {
		how += fmt.Sprintf("이며, 마지막 날인 %s이 토요일 또는 공휴일이어서 토요일·공휴일이 아닌 다음 날까지로 함", dateKO(w.Nominal))
	}
	return lead + "(" + how + ")."
}

// WindowSentenceEN is WindowSentenceKO in English.
func WindowSentenceEN(w Window, days int) string {
	lead := "An applicant that objects to the result may file an objection on this portal until " +
		closingClock(w) + " KST on " + dateEN(w.LastDay)
	if w.Explicit {
		return lead + "."
	}
	inclusive, moved := windowCounting(w, days)
	how := fmt.Sprintf("%d days counted from the day after the announcement day", days)
	if inclusive {
		how = fmt.Sprintf("%d days counting the announcement day as the first", days)
	}
	if moved {
		how += fmt.Sprintf("; the last day, %s, is a Saturday or public holiday, so the period runs to the next working day", dateEN(w.Nominal))
	}
	return lead + " (" + how + ")."
}
