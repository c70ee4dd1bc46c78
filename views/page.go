// Package views renders the portal's pages with templ. Each page takes a
// view model shaped like the screen; the Page carries what every page's
// frame needs. Visible text comes from the message catalogues (i18n.T).
package views

import (
	"fmt"
	"time"

	"kaiportal/models"
)

// Page is what the layout needs for every page.
type Page struct {
	TitleID    string // message ID of the page title
	User       *models.User
	CSRF       string
	Lang       string
	Path       string
	Here       string // where a language switch returns: this page, or for a page answering a POST, the page of its form
	StaticBase string // /static/<build hash>
	DemoLogin  bool   // the demo sign-in is on: show the banner
	OIDC       bool
	// FormOwner is the signed id of the signed-in user, which forms carry
	// so that one sent after the session ended can be kept for that user.
	FormOwner string
	// Session says when the signed-in session ends, for the warning before it does.
	Session SessionClock
	// Restored is a form sent after the session ended and kept, now filled in again.
	Restored *RestoredForm
	HelpDesk HelpDesk // the footer's contact details
	// Unread is how many of the signed-in user's notices are unread (the
	// header's inbox link, put in for each request: liveInbox).
	Unread int64
}

// HelpDesk is how visitors reach the portal's operators (PORTAL_HELPDESK_*);
// an empty field is shown as not yet configured.
type HelpDesk struct {
	Phone, Email string
}

// Asset returns the URL of a static file under the checksum path.
func (p Page) Asset(path string) string { return p.StaticBase + "/" + path }

// SignedIn reports whether a user is signed in.
func (p Page) SignedIn() bool { return p.User != nil }

// Role is the visitor's role (anonymous when signed out).
func (p Page) Role() models.Role {
	if p.User == nil {
		return models.RoleAnonymous
	}
	return p.User.Role
}

// NavItem is one entry of the main navigation.
type NavItem struct {
	Href, LabelID string
}

// Nav lists the navigation for the visitor's role.
func (p Page) Nav() []NavItem {
	items := []NavItem{{"/", "nav.home"}, {"/calls", "nav.calls"}, {"/decisions", "nav.decisions"}, {"/stages", "nav.stages"}, {"/k-ai", "nav.registry"},
		{"/support/figures", "nav.support_figures"}}
	switch p.Role() {
	case models.RoleCompany:
		items = append(items, NavItem{"/company", "nav.dashboard"}, NavItem{"/company/applications", "nav.applications"},
			NavItem{"/company/consortium", "nav.consortium"}, NavItem{"/agreements", "nav.agreements"},
			NavItem{"/appeals", "nav.appeals"}, NavItem{"/allocations", "nav.allocations"},
			NavItem{"/company/usage-reports", "nav.usage_reports"}, NavItem{"/support", "nav.support"}, NavItem{"/data", "nav.data"}, NavItem{"/talent", "nav.talent"},
			NavItem{"/company/follow-up", "nav.follow_up"})
		if p.User.OrganisationID != nil {
			items = append(items, NavItem{fmt.Sprintf("/organisations/%d", *p.User.OrganisationID), "nav.my_organisation"})
		}
	case models.RoleOfficer:
		items = append(items, NavItem{"/officer", "nav.dashboard"}, NavItem{"/reviews", "nav.reviews"},
			NavItem{"/officer/stages", "nav.stage_admin"}, NavItem{"/evaluations", "nav.evaluations"},
			NavItem{"/appeals", "nav.appeals"}, NavItem{"/agreements", "nav.agreements"}, NavItem{"/officer/naming", "nav.naming"},
			NavItem{"/allocations", "nav.allocations"}, NavItem{"/gpus/clusters", "nav.clusters"},
			NavItem{"/auditor/usage-reports", "nav.usage_queue"}, NavItem{"/auditor/usage-summary", "nav.usage_summary"},
			NavItem{"/officer/invoices", "nav.invoices"},
			NavItem{"/officer/usage-settings", "nav.usage_settings"}, NavItem{"/officer/consortia", "nav.consortia"},
			NavItem{"/support", "nav.support"}, NavItem{"/data", "nav.data"}, NavItem{"/talent", "nav.talent"}, NavItem{"/organisations", "nav.organisations"}, NavItem{"/audit", "nav.audit"})
	case models.RoleAdmin:
		items = append(items, NavItem{"/officer", "nav.dashboard"}, NavItem{"/reviews", "nav.reviews"},
			NavItem{"/officer/stages", "nav.stage_admin"}, NavItem{"/evaluations", "nav.evaluations"},
			NavItem{"/appeals", "nav.appeals"}, NavItem{"/agreements", "nav.agreements"}, NavItem{"/officer/naming", "nav.naming"},
			NavItem{"/allocations", "nav.allocations"}, NavItem{"/gpus/clusters", "nav.clusters"},
			NavItem{"/auditor/usage-reports", "nav.usage_queue"}, NavItem{"/auditor/usage-summary", "nav.usage_summary"},
			NavItem{"/officer/invoices", "nav.invoices"},
			NavItem{"/officer/usage-settings", "nav.usage_settings"}, NavItem{"/officer/consortia", "nav.consortia"},
			NavItem{"/support", "nav.support"}, NavItem{"/data", "nav.data"}, NavItem{"/talent", "nav.talent"}, NavItem{"/admin", "nav.admin"}, NavItem{"/organisations", "nav.organisations"}, NavItem{"/audit", "nav.audit"})
	case models.RoleReviewer:
		// An external evaluator: their call and stage assignments and nothing else of the programme.
		items = append(items, NavItem{"/reviews", "nav.dashboard"}, NavItem{"/evaluations", "nav.evaluations"})
	case models.RoleAuditor:
		items = append(items, NavItem{"/auditor", "nav.dashboard"}, NavItem{"/appeals", "nav.appeals"}, NavItem{"/agreements", "nav.agreements"},
			NavItem{"/allocations", "nav.allocations"}, NavItem{"/gpus/clusters", "nav.clusters"},
			NavItem{"/auditor/usage-reports", "nav.usage_queue"}, NavItem{"/auditor/usage-summary", "nav.usage_summary"},
			NavItem{"/officer/consortia", "nav.consortia"},
			NavItem{"/support", "nav.support"}, NavItem{"/data", "nav.data"}, NavItem{"/talent", "nav.talent"}, NavItem{"/organisations", "nav.organisations"}, NavItem{"/audit", "nav.audit"})
	}
	return items
}

// Current reports whether href is the page being shown.
func (p Page) Current(href string) bool { return p.Path == href }

var kst = time.FixedZone("KST", 9*60*60)

// KST formats an instant in Korea Standard Time to the second.
func KST(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(kst).Format("2006-01-02 15:04:05") + " KST"
}

// KSTDate formats the KST calendar date of an instant.
func KSTDate(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(kst).Format("2006-01-02")
}

// RoleLabelID is the message ID of a role's name.
func RoleLabelID(r models.Role) string {
	if r == models.RoleAnonymous {
		return "role.anonymous"
	}
	return "role." + string(r)
}

// OrgName returns an organisation's name in the page's language.
func OrgName(lang string, o *models.Organisation) string {
	if o == nil {
		return "—"
	}
	if lang == "en" {
		return o.NameEN
	}
	return o.NameKO
}

// Bilingual picks the Korean or English text.
func Bilingual(lang, ko, en string) string {
	if lang == "en" && en != "" {
		return en
	}
	return ko
}
