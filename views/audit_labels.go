package views

import (
	"context"
	"net/url"
	"strconv"
	"strings"

	"kaiportal/i18n"
	"kaiportal/models"
)

// The audit trail stores each row as it was hashed: an action code, an
// object type and id, the actor's label and a free-text summary written
// when the change was made. The page translates the codes through the
// catalogues (audit.kind.<action>, audit.event.<action>,
// audit.type.<object type>) and keeps the stored summary, unchanged, as
// the record's own text.

// tOr translates id, or returns fallback when no catalogue has id.
func tOr(ctx context.Context, id, fallback string, data ...map[string]any) string {
	if s := i18n.T(ctx, id, data...); s != "["+id+"]" {
		return s
	}
	return fallback
}

// AuditActionLabel is the short name of an action, for the filter and the
// action column; an action without a message shows its code.
func AuditActionLabel(ctx context.Context, action string) string {
	return tOr(ctx, "audit.kind."+action, action)
}

// AuditEvent is the sentence that says what a row records, in the
// reader's language.
func AuditEvent(ctx context.Context, e models.AuditEntry) string {
	return tOr(ctx, "audit.event."+e.Action, i18n.T(ctx, "audit.event.other", map[string]any{"Action": e.Action}))
}

// AuditObjectType is the name of an object type; an unknown type shows its code.
func AuditObjectType(ctx context.Context, objectType string) string {
	return tOr(ctx, "audit.type."+objectType, objectType)
}

// AuditActor shows a recorded actor label: "system" by its name in the
// reader's language, and "name (role)" with the role named in it.
func AuditActor(ctx context.Context, label string) string {
	if label == "system" {
		return i18n.T(ctx, "audit.actor_system")
	}
	for _, r := range models.Roles {
		if name, ok := strings.CutSuffix(label, " ("+string(r)+")"); ok {
			return name + " · " + i18n.T(ctx, RoleLabelID(r))
		}
	}
	return label
}

// AuditFilterForm is the audit page's filter as typed, kept for the form
// and the pager.
type AuditFilterForm struct {
	Actor, Action, Object, From, To string
}

// Href is the audit page with this filter, at page (1: no page parameter).
func (f AuditFilterForm) Href(page int) string {
	q := url.Values{}
	for k, v := range map[string]string{"actor": f.Actor, "action": f.Action, "object": f.Object, "from": f.From, "to": f.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return "/audit"
	}
	return "/audit?" + q.Encode()
}

// Filtered reports whether any filter is set.
func (f AuditFilterForm) Filtered() bool { return f != AuditFilterForm{} }
