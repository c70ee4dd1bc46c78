package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Decision kinds.
const (
	DecisionSelection = "selection"
	DecisionStage     = "stage"
)

// Decision is a published result: who published it, when, the ranked list
// and the notice text. It is never changed after publication (the database
// refuses updates); a correction is a new decision.
type Decision struct {
	ID            uint         `gorm:"primaryKey"`
	CallID        uint         `gorm:"not null;index"`
	Call          Call         `gorm:"constraint:OnDelete:RESTRICT"`
	Kind          string       `gorm:"size:16;not null"`
	NoticeKO      string       `gorm:"type:text;not null"`
	NoticeEN      string       `gorm:"type:text;not null"`
	CountingRule  CountingRule `gorm:"size:32;not null"`
	ExplicitClose *time.Time   // an appeal deadline stated in the notice, overriding the rule
	TieBreak      string       `gorm:"type:text;not null"`
	PublishedByID uint         `gorm:"not null"`
	PublishedBy   User         `gorm:"constraint:OnDelete:RESTRICT"`
	PublishedAt   time.Time    `gorm:"not null"`
	ContentHash   string       `gorm:"size:64;not null"`
	// SupersedesID names the decision this one corrects after an upheld appeal.
	SupersedesID *uint           `gorm:"index"`
	Entries      []DecisionEntry `gorm:"constraint:OnDelete:RESTRICT"`

	// WindowNoticeKO and WindowNoticeEN are the notice's sentence about the
	// appeal window, generated from the rule or the explicit deadline (see
	// NoticeTextsFor); RemediesKO and RemediesEN the call's statement of
	// further remedies as it stood at publication. Decisions published
	// before they existed have them empty.
	WindowNoticeKO string `gorm:"type:text;not null;default:''"`
	WindowNoticeEN string `gorm:"type:text;not null;default:''"`
	RemediesKO     string `gorm:"type:text;not null;default:''"`
	RemediesEN     string `gorm:"type:text;not null;default:''"`
	// HashVersion says what ContentHash covers: 1 for decisions published
	// before the notice's generated parts and the explicit deadline were
	// hashed, 2 since (see hash).
	HashVersion int `gorm:"not null;default:1"`
}

// DecisionEntry is one ranked application in a decision, with the names as
// they were at publication.
type DecisionEntry struct {
	ID             uint    `gorm:"primaryKey"`
	DecisionID     uint    `gorm:"not null;index"`
	Rank           int     `gorm:"not null"`
	ApplicationID  uint    `gorm:"not null;index"`
	OrganisationID uint    `gorm:"not null;index"`
	NameKO         string  `gorm:"size:200;not null"`
	NameEN         string  `gorm:"size:200;not null"`
	Members        string  `gorm:"type:text;not null"` // consortium members at publication, "; "-separated
	Score          float64 `gorm:"not null"`
	Selected       bool    `gorm:"not null"`
}

// Announcement is the instant the decision was published.
func (d *Decision) Announcement() time.Time { return d.PublishedAt }

// AppealWindow computes the decision's appeal window with the calendar.
func (d *Decision) AppealWindow(cal HolidayCalendar) (Window, error) {
	if d.ExplicitClose != nil {
		return AppealWindowUntil(d.PublishedAt, *d.ExplicitClose)
	}
	return AppealWindow(d.PublishedAt, 10, d.CountingRule, cal)
}

// Entry returns the decision's entry for an organisation, if any.
func (d *Decision) Entry(orgID uint) (DecisionEntry, bool) {
	for _, e := range d.Entries {
		if e.OrganisationID == orgID {
			return e, true
		}
	}
	return DecisionEntry{}, false
}

// hashVersion is the ContentHash version of decisions published now.
const hashVersion = 2

// hash is a digest of the decision's published content, shown with it so
// any later change can be noticed, computed as its HashVersion says.
// Unknown versions give "", which matches no hash.
func (d *Decision) hash() string {
	switch d.HashVersion {
	case 0, 1:
		return d.hashV1()
	case 2:
		return d.hashV2()
	}
	return ""
}

// hashV1 is the digest of the first decisions: the free text of the notice
// and the ranked list, fields joined with "|"; it leaves out the explicit
// deadline, the tie-break rule and the names in English. Kept unchanged so
// that those decisions still verify.
func (d *Decision) hashV1() string {
	h := sha256.New()
	fmt.Fprintf(h, "%d|%s|%s|%s|%s|%d|%s\n", d.CallID, d.Kind, d.NoticeKO, d.NoticeEN, d.CountingRule,
		d.PublishedByID, d.PublishedAt.UTC().Format(time.RFC3339Nano))
	for _, e := range d.Entries {
		fmt.Fprintf(h, "%d|%d|%d|%s|%.6f|%t\n", e.Rank, e.ApplicationID, e.OrganisationID, e.NameKO, e.Score, e.Selected)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// hashV2 covers everything the decision states: the notice with its
// generated window sentence and statement of remedies, the counting rule
// and the explicit deadline, the tie-break rule, the decision it corrects,
// and every field of every entry. Each field is written with its length,
// so no text can pass for a field boundary.
func (d *Decision) hashV2() string {
	h := sha256.New()
	field := func(s string) { fmt.Fprintf(h, "%d:%s;", len(s), s) }
	instant := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339Nano)
	}
	supersedes := ""
	if d.SupersedesID != nil {
		supersedes = fmt.Sprint(*d.SupersedesID)
	}
	for _, s := range []string{"kai-decision-v2", fmt.Sprint(d.CallID), d.Kind, d.NoticeKO, d.NoticeEN,
		d.WindowNoticeKO, d.WindowNoticeEN, d.RemediesKO, d.RemediesEN, string(d.CountingRule),
		instant(d.ExplicitClose), d.TieBreak, supersedes, fmt.Sprint(d.PublishedByID), instant(&d.PublishedAt),
		fmt.Sprint(len(d.Entries))} {
		field(s)
	}
	for _, e := range d.Entries {
		for _, s := range []string{fmt.Sprint(e.Rank), fmt.Sprint(e.ApplicationID), fmt.Sprint(e.OrganisationID),
			e.NameKO, e.NameEN, e.Members, fmt.Sprintf("%.6f", e.Score), fmt.Sprint(e.Selected)} {
			field(s)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// PublishInput is what the officer confirms when publishing a selection.
type PublishInput struct {
	CallID        uint
	Selected      []uint // application IDs
	NoticeKO      string
	NoticeEN      string
	CountingRule  CountingRule
	ExplicitClose *time.Time
	// Supersedes is the decision being corrected (0 for a first decision):
	// allowed only when an appeal against it was upheld.
	Supersedes uint
	// Shown is the generated text the officer was shown with the form (see
	// NoticeTextsFor). When set, the decision is published only if the text
	// generated at publication is the same (ErrNoticeChanged otherwise), so
	// that what is published is exactly what was shown.
	Shown *NoticeTexts
}

// NoticeStale reports whether the generated text the officer was shown
// differs from current, the text that publishing now would state.
func (in PublishInput) NoticeStale(current NoticeTexts) bool {
	return in.Shown != nil && *in.Shown != current
}

// Validate checks the officer's input against the ranking.
func (in PublishInput) Validate(call *Call, ranking []Ranked) FieldErrors {
	errs := FieldErrors{}
	if strings.TrimSpace(in.NoticeKO) == "" {
		errs.Add("notice_ko", "form.required")
	}
	if strings.TrimSpace(in.NoticeEN) == "" {
		errs.Add("notice_en", "form.required")
	}
	errs.CheckText("notice_ko", in.NoticeKO, MaxNotice, MultiLine)
	errs.CheckText("notice_en", in.NoticeEN, MaxNotice, MultiLine)
	if !in.CountingRule.Valid() {
		errs.Add("counting_rule", "decision.error.rule")
	}
	if len(in.Selected) == 0 {
		errs.Add("selected", "decision.error.none_selected")
	}
	if len(in.Selected) > call.Slots {
		errs.Add("selected", "decision.error.too_many")
	}
	ranked := map[uint]Ranked{}
	for _, r := range ranking {
		ranked[r.ApplicationID] = r
	}
	for _, id := range in.Selected {
		if _, ok := ranked[id]; !ok {
			errs.Add("selected", "decision.error.not_ranked")
		}
	}
	for _, r := range ranking {
		if r.Reviewers == 0 {
			errs.Add("ranking", "decision.error.unscored")
		}
	}
	if in.ExplicitClose != nil && !in.ExplicitClose.After(time.Time{}) {
		errs.Add("explicit_close", "form.datetime")
	}
	return errs
}

// PublishSelection ranks the call's applications, marks the confirmed ones
// selected and the rest not selected, and publishes the decision, all in
// one transaction with its audit row.
func PublishSelection(ctx context.Context, db *gorm.DB, in PublishInput, by *User, now time.Time) (*Decision, error) {
	if by == nil || !by.Role.IsMinistry() {
		return nil, fmt.Errorf("store: publish decision: %w", ErrForbidden)
	}
	var d *Decision
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		chk, _, err := checkPublish(ctx, tx, in, now)
		if err != nil {
			return err
		}
		call, ranking, texts := chk.call, chk.ranking, chk.texts
		selected := map[uint]bool{}
		for _, id := range in.Selected {
			selected[id] = true
		}
		d = &Decision{CallID: call.ID, Kind: DecisionSelection, NoticeKO: strings.TrimSpace(in.NoticeKO),
			NoticeEN: strings.TrimSpace(in.NoticeEN), CountingRule: in.CountingRule, TieBreak: TieBreakRule,
			PublishedByID: by.ID, PublishedAt: now.UTC().Truncate(time.Microsecond)}
		if in.Supersedes != 0 {
			d.SupersedesID = &in.Supersedes
		}
		if in.ExplicitClose != nil {
			t := in.ExplicitClose.UTC().Truncate(time.Microsecond)
			d.ExplicitClose = &t
		}
		d.WindowNoticeKO, d.WindowNoticeEN = texts.WindowKO, texts.WindowEN
		d.RemediesKO, d.RemediesEN = texts.RemediesKO, texts.RemediesEN
		d.HashVersion = hashVersion
		for _, r := range ranking {
			a, err := GetApplication(ctx, tx, r.ApplicationID)
			if err != nil {
				return err
			}
			action := ActNotSelect
			if selected[a.ID] {
				action = ActSelect
			}
			to := a.Status
			if !(in.Supersedes != 0 && a.Status == map[ApplicationAction]ApplicationStatus{ActSelect: StatusSelected, ActNotSelect: StatusNotSelected}[action]) {
				if to, err = NextStatus(a.Status, action, by.Role, call, now); err != nil {
					return err
				}
			}
			if err := tx.Model(&Application{}).Where("id = ?", a.ID).
				Updates(map[string]any{"status": to, "version": a.Version + 1, "updated_at": now.UTC()}).Error; err != nil {
				return err
			}
			d.Entries = append(d.Entries, DecisionEntry{Rank: r.Rank, ApplicationID: a.ID, OrganisationID: a.LeadOrgID,
				NameKO: a.LeadOrg.NameKO, NameEN: a.LeadOrg.NameEN, Members: memberNames(a.Members), Score: r.Total,
				Selected: selected[a.ID]})
		}
		d.ContentHash = d.hash()
		if err := tx.Create(d).Error; err != nil {
			return fmt.Errorf("store: publish decision: %w", err)
		}
		if err := notifyDecision(ctx, tx, d, call.TitleKO, now); err != nil {
			return err
		}
		return RecordAudit(ctx, tx, ActorOf(by), "decision.publish", "decision", fmt.Sprint(d.ID),
			fmt.Sprintf("selection for call %d: %d ranked, %d selected; sha256 %s", call.ID, len(d.Entries), len(in.Selected), d.ContentHash), now)
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// CheckPublish checks a publication as PublishSelection would make it now,
// publishing nothing, so that the confirmation page asks only about what
// can be published: the problems with the officer's input by field
// (ErrInvalid, and ErrReviewBeforeClose before the call closes); or
// ErrConflict or ErrInvalidTransition for a decision that is not the one
// to publish (see CheckSupersedes); or ErrNoticeChanged when the generated
// text is no longer the one shown.
func CheckPublish(ctx context.Context, db *gorm.DB, in PublishInput, now time.Time) (FieldErrors, error) {
	_, errs, err := checkPublish(ctx, db.WithContext(ctx), in, now)
	return errs, err
}

// checkedPublish is what a checked publication publishes.
type checkedPublish struct {
	call    *Call
	ranking []Ranked
	texts   NoticeTexts
}

// checkPublish is the rule for publishing a selection: the decision is the
// call's first or the correction of its current one after an upheld appeal;
// the call has closed; every submitted application has a reviewer; the
// input is valid for the ranking; the generated text is the one shown.
func checkPublish(ctx context.Context, tx *gorm.DB, in PublishInput, now time.Time) (*checkedPublish, FieldErrors, error) {
	call, err := GetCall(ctx, tx, in.CallID)
	if err != nil {
		return nil, nil, err
	}
	if err := CheckSupersedes(ctx, tx, call.ID, in.Supersedes); err != nil {
		return nil, nil, err
	}
	var submitted int64
	if err := tx.Model(&Application{}).Where("call_id = ? AND status = ?", call.ID, StatusSubmitted).Count(&submitted).Error; err != nil {
		return nil, nil, err
	}
	sheets, err := LoadScoreSheets(ctx, tx, call)
	if err != nil {
		return nil, nil, err
	}
	ranking := RankApplications(call.Criteria, sheets)
	errs := in.Validate(call, ranking)
	if in.ExplicitClose != nil && !in.ExplicitClose.After(now) {
		errs.Add("explicit_close", "officer.decision.close_past")
	}
	if submitted > 0 {
		errs.Add("ranking", "officer.ranking.pending")
	}
	closed := call.IsClosed(now)
	if !closed {
		errs.Add("ranking", "officer.ranking.not_closed")
	}
	switch {
	case !closed:
		return nil, errs, fmt.Errorf("store: publish decision: %w: %w", ErrInvalid, ErrReviewBeforeClose)
	case errs.Any():
		return nil, errs, fmt.Errorf("store: publish decision: %w", ErrInvalid)
	}
	var closes *time.Time
	if in.ExplicitClose != nil {
		t := in.ExplicitClose.UTC().Truncate(time.Microsecond)
		closes = &t
	}
	texts, err := NoticeTextsFor(ctx, tx, call, in.CountingRule, closes, now)
	if err != nil {
		return nil, nil, fmt.Errorf("store: publish decision: %w: %w", ErrInvalid, err)
	}
	if in.NoticeStale(texts) {
		return nil, nil, fmt.Errorf("store: publish decision: %w", ErrNoticeChanged)
	}
	return &checkedPublish{call: call, ranking: ranking, texts: texts}, nil, nil
}

// CheckSupersedes allows a first decision for a call (supersedes 0), or a
// correction of the call's current decision after one of its appeals was
// upheld; ErrConflict when the call already has a decision that is not
// the one named, ErrInvalidTransition when it has no upheld appeal, and
// ErrInvalid when there is nothing to correct.
func CheckSupersedes(ctx context.Context, db *gorm.DB, callID, supersedes uint) error {
	tx := db.WithContext(ctx)
	var current []Decision
	if err := tx.Where("call_id = ? AND kind = ?", callID, DecisionSelection).Order("id").Find(&current).Error; err != nil {
		return err
	}
	if len(current) == 0 {
		if supersedes != 0 {
			return fmt.Errorf("store: publish decision: nothing to correct: %w", ErrInvalid)
		}
		return nil
	}
	latest := current[len(current)-1]
	if supersedes == 0 {
		return fmt.Errorf("store: publish decision: call %d already has a published selection: %w", callID, ErrConflict)
	}
	if supersedes != latest.ID {
		return fmt.Errorf("store: publish decision: only the current decision %d can be corrected: %w", latest.ID, ErrConflict)
	}
	st, err := StandingOf(ctx, tx, &latest)
	if err != nil {
		return err
	}
	if !st.UnderReReview {
		return fmt.Errorf("store: publish decision: decision %d has no upheld appeal: %w", latest.ID, ErrInvalidTransition)
	}
	return nil
}

func memberNames(ms []ConsortiumMember) string {
	names := make([]string, 0, len(ms))
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Role == MemberLead && ms[j].Role != MemberLead })
	for _, m := range ms {
		names = append(names, m.Organisation.NameKO)
	}
	return strings.Join(names, "; ")
}

// GetDecision loads a decision with its entries in rank order.
func GetDecision(ctx context.Context, db *gorm.DB, id uint) (*Decision, error) {
	var d Decision
	err := db.WithContext(ctx).Preload("Call").Preload("PublishedBy").
		Preload("Entries", func(tx *gorm.DB) *gorm.DB { return tx.Order("rank") }).First(&d, id).Error
	if err != nil {
		return nil, notFound(fmt.Sprintf("store: decision %d", id), err)
	}
	return &d, nil
}

// ListDecisions returns every published decision, newest first, loaded as
// GetDecision loads one (decisions are few: a selection, then a stage
// result every six months).
func ListDecisions(ctx context.Context, db *gorm.DB) ([]Decision, error) {
	var ds []Decision
	err := db.WithContext(ctx).Preload("Call").Preload("PublishedBy").
		Preload("Entries", func(tx *gorm.DB) *gorm.DB { return tx.Order("rank") }).
		Order("published_at DESC").Order("id DESC").Find(&ds).Error
	if err != nil {
		return nil, fmt.Errorf("store: list decisions: %w", err)
	}
	return ds, nil
}

// CurrentSelection returns the call's current published selection: the
// latest correction if there is one (a correction has a higher id than the
// decision it supersedes, even when published in the same instant). It
// returns nil and no error when the call has no decision yet.
func CurrentSelection(ctx context.Context, db *gorm.DB, callID uint) (*Decision, error) {
	var ids []uint
	err := db.WithContext(ctx).Model(&Decision{}).Where("call_id = ? AND kind = ?", callID, DecisionSelection).
		Order("id DESC").Limit(1).Pluck("id", &ids).Error
	if err != nil {
		return nil, fmt.Errorf("store: current selection of call %d: %w", callID, err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return GetDecision(ctx, db, ids[0])
}

// VerifyContent reports whether the stored decision still matches its hash.
func (d *Decision) VerifyContent() bool { return d.hash() == d.ContentHash }
