package models

import (
	"unicode"
	"unicode/utf8"
)

// The longest text each field may hold, in characters (runes), declared
// once here and used by every Validate. SQLite stores any length; a
// PostgreSQL varchar(n) counts characters the same way, so the limits hold
// on both databases. Where a field has a sized column, its gorm size is the
// same number (TestTextLimitsMatchColumns checks it); a text column has
// only the limit.
const (
	MaxCallTitle          = 300   // Call.TitleKO, TitleEN: varchar(300)
	MaxCallDescription    = 20000 // Call.DescriptionKO, DescriptionEN: text
	MaxCriterionName      = 200   // Criterion.NameKO, NameEN: varchar(200)
	MaxDocumentName       = 200   // RequiredDocument.NameKO, NameEN: varchar(200)
	MaxApplicationTitle   = 300   // Application.TitleKO, TitleEN: varchar(300)
	MaxApplicationSummary = 5000  // Application.Summary: text
	MaxOrganisationName   = 200   // Organisation.NameKO, NameEN: varchar(200)
	MaxAppealStatement    = 10000 // Appeal.Statement: text
	MaxAppealReasons      = 10000 // Appeal.Reasons: text
	MaxIdempotencyKey     = 64    // Appeal.IdempotencyKey: varchar(64)
	MaxScoreComment       = 5000  // Score.Comment: text
	MaxNotice             = 20000 // Decision.NoticeKO, NoticeEN: text
	MaxGrantName          = 200   // each name a NamingGrant covers (one per line of Names)
	MaxGrantNames         = 5000  // NamingGrant.Names: text
	MaxGrantBasis         = 2000  // NamingGrant.Basis: text
	MaxRevocationReason   = 2000  // NamingGrant.RevocationReason: text
	MaxHolidayName        = 100   // ExtraHoliday.NameKO, NameEN: varchar(100)
	MaxClusterText        = 120   // Cluster.Name, Provider, Region, GPUModel: varchar(120)
	MaxClusterEndpoints   = 10000 // Cluster.Endpoints: text
	MaxBearerToken        = 3000  // Cluster bearer token as typed; sealed it fits SealedToken's varchar(4096)
	MaxAllocationNote     = 2000  // Allocation.Note: text
	MaxGPUUUID            = 128   // AllocationGPU.GPUUUID, GPU.UUID: varchar(128)
	MaxNodeName           = 255   // GPU.Node: varchar(255)
	MaxReturnPath         = 512   // LoginAttempt.ReturnTo: varchar(512)
)

// TextKind says which layout characters a field may hold.
type TextKind int

// Text kinds.
const (
	SingleLine TextKind = iota // no control characters at all
	MultiLine                  // line breaks (LF, CR) and tabs, nothing else
)

// Message IDs of the text rule.
const (
	MsgTextInvalid = "input.text_invalid" // not UTF-8, or a NUL or other control character
	MsgTooLong     = "form.too_long"
)

// CheckText is the one rule for text that people type into the portal:
// valid UTF-8, no NUL or other control character (a multi-line field may
// hold line breaks and tabs), and at most max characters. It returns the
// message ID of the problem, or "" when the text is acceptable. Emptiness
// is the caller's rule: CheckText accepts "".
func CheckText(s string, max int, kind TextKind) string {
	if !utf8.ValidString(s) {
		return MsgTextInvalid
	}
	n := 0
	for _, r := range s {
		n++
		if unicode.IsControl(r) && !(kind == MultiLine && (r == '\n' || r == '\r' || r == '\t')) {
			return MsgTextInvalid
		}
	}
	if n > max {
		return MsgTooLong
	}
	return ""
}

// CheckText records the problem CheckText finds with a field's text, if any.
func (f FieldErrors) CheckText(field, s string, max int, kind TextKind) {
	if msg := CheckText(s, max, kind); msg != "" {
		f.Add(field, msg)
	}
}

// ValidQueryText reports whether a value taken from a URL's query string
// may be used: valid UTF-8 without control characters. Query strings are
// one line; their lengths are each reader's own rule.
func ValidQueryText(s string) bool {
	return CheckText(s, len(s), SingleLine) == ""
}
