package views

import (
	"strconv"

	"kaiportal/models"
)

// SupportSummaryView is the support summary: a row per team the user may
// see and, for the ministry and auditors, the programme's total.
type SupportSummaryView struct {
	Month     models.Month
	Teams     []models.TeamSupport
	Total     models.TeamSupport
	Programme bool // the ministry and auditors: the total and the exports
}

// PublicSupportView is the public page of the programme's support.
type PublicSupportView struct {
	Month   models.Month
	Figures models.PublicSupport
}

// Hours formats GPU-hours to one decimal place.
func GPUHoursText(h float64) string { return strconv.FormatFloat(h, 'f', 1, 64) }
