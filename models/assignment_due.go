package models

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// The day an evaluator's assignment is due: a review of an application
// (ReviewAssignment) or the scores of a stage (StageEvaluator). The
// officer names it when assigning; without one it follows the call's or
// the stage's dates.

// DefaultReviewDays is how many days after a call closes its reviews are
// due when the officer names no day.
const DefaultReviewDays = 14

// ErrInvalidDue is a due day that is not a date, or is before today.
var ErrInvalidDue = errors.New("the due day must be a date from today on")

// DefaultReviewDue is the day a review of the call's applications is due:
// DefaultReviewDays after the day the call closes (KST), moved to the next
// working day (민법 §161) when it falls on a weekend or a holiday in cal.
func DefaultReviewDue(c *Call, cal HolidayCalendar) Date {
	d := DateOf(c.ClosesAt).AddDays(DefaultReviewDays)
	if w, err := WorkingDayOnOrAfter(d, cal); err == nil {
		return w
	}
	return d
}

// DefaultEvaluationDue is the day a stage's scores are due: its
// evaluation day (zero when the stage names none).
func DefaultEvaluationDue(s *Stage) Date {
	d, err := ParseDate(s.EvaluatedOn)
	if err != nil {
		return Date{}
	}
	return d
}

// ParseDue reads the due day an officer typed ("": def), which must not be
// before today (KST) at now.
func ParseDue(s string, def Date, now time.Time) (Date, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return def, nil
	}
	d, err := ParseDate(s)
	if err != nil {
		return Date{}, fmt.Errorf("store: due day %q: %w", s, ErrInvalidDue)
	}
	if d.Before(DateOf(now)) {
		return Date{}, fmt.Errorf("store: due day %s is past: %w", d, ErrInvalidDue)
	}
	return d, nil
}

// dueTask is the task of an assignment due on the day (KST, 2006-01-02):
// late from the end of that day; no deadline when the day is empty.
func dueTask(day string) Task {
	d, err := ParseDate(day)
	if err != nil {
		return Task{}
	}
	return Task{Due: dayEnd(d), DueDay: d}
}

// Due is the review's deadline: the end of its due day.
func (a *ReviewAssignment) Due() Task { return dueTask(a.DueOn) }

// Due is the evaluator's deadline for the stage: the end of its due day.
func (e *StageEvaluator) Due() Task { return dueTask(e.DueOn) }

// dayText is the day as stored ("" for the zero day).
func dayText(d Date) string {
	if d.IsZero() {
		return ""
	}
	return d.String()
}

// Outstanding reports whether the review still waits for the reviewer: the
// application is under review and the reviewer has neither recused nor
// scored every one of the call's criteria.
func (a *ReviewAssignment) Outstanding(app *Application) bool {
	if app == nil || app.Status != StatusUnderReview || a.Conflict == ConflictRecused {
		return false
	}
	return a.Conflict == "" || len(a.Scores) < len(app.Call.Criteria)
}
