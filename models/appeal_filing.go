package models

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Filing an appeal: the rules that decide whether an organisation may
// appeal against a decision are applied once per request, by
// LoadAppealCase for the form and inside SubmitAppeal's transaction for a
// filing, which also validates what was typed, checks and stores the
// evidence and records the appeal with its audit row.

// MaxAppealEvidence is how many evidence files one appeal may carry.
const MaxAppealEvidence = 10

// ErrTooManyEvidence refuses an appeal with more than MaxAppealEvidence files.
var ErrTooManyEvidence = errors.New("too many evidence files")

// AppealCase is what the appeal rules say of one decision for one
// organisation at one instant.
type AppealCase struct {
	Decision *Decision     // with its call and entries
	Window   Window        // the decision's window, with the holidays as they stood at Now
	Now      time.Time     // the instant the rules were applied at
	Own      DecisionEntry // the organisation's line in the decision
	// Prior are the organisation's earlier appeals against the decision,
	// oldest first, without their relations.
	Prior []Appeal
	// Refusal is why the rules refuse a filing at Now whatever is typed:
	// nil when they allow one, else an *AppealWindowClosedError (closed, or
	// not open yet) or a *DecisionSupersededError (a correction replaced
	// the decision).
	Refusal error
}

// LoadAppealCase applies the appeal rules to the decision id for the
// user's organisation at now. An unknown decision is ErrNotFound; a user
// who is not a company user of an organisation the decision concerns,
// ErrForbidden.
func LoadAppealCase(ctx context.Context, db *gorm.DB, id uint, by *User, now time.Time) (*AppealCase, error) {
	return loadAppealCase(ctx, db.WithContext(ctx), id, by, now)
}

func loadAppealCase(ctx context.Context, db *gorm.DB, id uint, by *User, now time.Time) (*AppealCase, error) {
	d, err := GetDecision(ctx, db, id)
	if err != nil {
		return nil, err
	}
	if by == nil || by.Role != RoleCompany || by.OrganisationID == nil {
		return nil, fmt.Errorf("store: appeal against decision %d: %w", id, ErrForbidden)
	}
	orgID := *by.OrganisationID
	w, refusal := CheckAppealable(ctx, db, d, orgID, now)
	if refusal != nil && !errors.Is(refusal, ErrAppealWindowClosed) && !errors.Is(refusal, ErrDecisionSuperseded) {
		return nil, refusal
	}
	c := &AppealCase{Decision: d, Window: w, Now: now, Refusal: refusal}
	c.Own, _ = d.Entry(orgID)
	if err := db.Where("decision_id = ? AND organisation_id = ?", d.ID, orgID).Order("filed_at, id").
		Find(&c.Prior).Error; err != nil {
		return nil, fmt.Errorf("store: earlier appeals against decision %d: %w", d.ID, err)
	}
	return c, nil
}

// PriorWithKey is the earlier appeal filed with the idempotency key of a
// form, or nil.
func (c *AppealCase) PriorWithKey(key string) *Appeal {
	if key == "" {
		return nil
	}
	for i := range c.Prior {
		if c.Prior[i].IdempotencyKey == key {
			return &c.Prior[i]
		}
	}
	return nil
}

// EvidenceError names the evidence file that was refused (its sanitised
// name; none for too many files) and why: Err is ErrUploadEmpty,
// ErrUploadTooLarge, ErrUploadType or ErrTooManyEvidence.
type EvidenceError struct {
	Name string
	Err  error
}

func (e *EvidenceError) Error() string { return "evidence " + e.Name + ": " + e.Err.Error() }
func (e *EvidenceError) Unwrap() error { return e.Err }

// AppealSubmission is an appeal as the appellant sends it, with where and
// under which rules its evidence is stored.
type AppealSubmission struct {
	Input AppealInput
	// Evidence are the files sent with the form; Stored are files already
	// stored (the demo's), attached as they are.
	Evidence   []UploadedFile
	Stored     []*StoredFile
	Files      *FileStore   // where the evidence is stored
	Uploads    UploadPolicy // what an evidence file may be
	AnswerDays int          // the ministry's days to answer
}

// AppealFiling is what became of a submission.
type AppealFiling struct {
	// Case is the appeal rules as applied to the decision, for the page
	// that answers; nil when the decision is unknown or does not concern
	// the user.
	Case *AppealCase
	// Appeal is the appeal filed, or the one an earlier submit of the same
	// form filed (Created false).
	Appeal  *Appeal
	Created bool
	// Errors and Evidence are the refused fields and evidence file when
	// the error is ErrInvalid.
	Errors   FieldErrors
	Evidence *EvidenceError
}

// SubmitAppeal files an appeal for the user's organisation against the
// decision s.Input names, at now (the server's clock), in one transaction
// that applies the appeal rules once. A second submit of the same form
// (its idempotency key) finds the appeal the first one filed, even after
// the window closed. Otherwise the error says why nothing was stored:
// ErrNotFound (no such decision), ErrForbidden (the user is no company
// user of an organisation it concerns), a *DecisionSupersededError or an
// *AppealWindowClosedError (AppealFiling.Case.Refusal), or ErrInvalid
// with the refused fields and evidence file in the AppealFiling.
func SubmitAppeal(ctx context.Context, db *gorm.DB, s AppealSubmission, by *User, now time.Time) (*AppealFiling, error) {
	res := &AppealFiling{}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := loadAppealCase(ctx, tx, s.Input.DecisionID, by, now)
		if err != nil {
			return err
		}
		res.Case = c
		if prior := c.PriorWithKey(s.Input.IdempotencyKey); prior != nil {
			res.Appeal = prior
			return nil
		}
		if c.Refusal != nil {
			return c.Refusal
		}
		res.Errors = s.Input.Validate()
		res.Evidence = checkEvidence(s.Evidence, s.Uploads)
		if res.Errors.Any() || res.Evidence != nil {
			return fmt.Errorf("store: file appeal: %w", ErrInvalid)
		}
		evidence, err := storeEvidence(ctx, tx, s, by, now)
		var refused *EvidenceError
		if errors.As(err, &refused) {
			res.Evidence = refused
			return fmt.Errorf("store: file appeal: %w: %w", ErrInvalid, err)
		}
		if err != nil {
			return err
		}
		a, err := createAppeal(ctx, tx, c.Decision, s.Input, slices.Concat(s.Stored, evidence), by, s.AnswerDays, now)
		if err != nil {
			return err
		}
		res.Appeal, res.Created = a, true
		return nil
	})
	if errors.Is(err, ErrConflict) && res.Case != nil {
		// Two submits of the same form at once: the other one filed it.
		res.Appeal, res.Created = nil, false
		prior, perr := appealByKey(ctx, db, *by.OrganisationID, s.Input.IdempotencyKey)
		if perr != nil || prior == nil {
			return res, err
		}
		res.Appeal = prior
		return res, nil
	}
	if err != nil {
		res.Appeal, res.Created = nil, false
		return res, err
	}
	return res, nil
}

// FileAppeal is SubmitAppeal with evidence already stored: it files an
// appeal for the user's organisation and returns it, with created=false
// when an earlier filing with the same idempotency key (a double submit)
// filed it.
func FileAppeal(ctx context.Context, db *gorm.DB, in AppealInput, evidence []*StoredFile, by *User, answerDays int, now time.Time) (a *Appeal, created bool, err error) {
	res, err := SubmitAppeal(ctx, db, AppealSubmission{Input: in, Stored: evidence, AnswerDays: answerDays}, by, now)
	if err != nil {
		return nil, false, err
	}
	return res.Appeal, res.Created, nil
}

// checkEvidence checks the number of evidence files and each one's size
// and sniffed type, without storing anything.
func checkEvidence(files []UploadedFile, p UploadPolicy) *EvidenceError {
	if len(files) > MaxAppealEvidence {
		return &EvidenceError{Err: fmt.Errorf("%w: %d files", ErrTooManyEvidence, len(files))}
	}
	for _, f := range files {
		name := SanitizeFileName(f.Name)
		if f.Size > p.MaxBytes {
			return &EvidenceError{Name: name, Err: fmt.Errorf("%w: %d bytes", ErrUploadTooLarge, f.Size)}
		}
		r, err := f.Open()
		if err != nil {
			return &EvidenceError{Name: name, Err: fmt.Errorf("%w: unreadable: %w", ErrUploadType, err)}
		}
		_, _, err = CheckUpload(f.Name, r, p)
		r.Close()
		switch {
		case err == nil:
		case errors.Is(err, ErrUploadEmpty), errors.Is(err, ErrUploadTooLarge), errors.Is(err, ErrUploadType):
			return &EvidenceError{Name: name, Err: err}
		default:
			return &EvidenceError{Name: name, Err: fmt.Errorf("%w: %w", ErrUploadType, err)}
		}
	}
	return nil
}

// storeEvidence stores the files sent with a submission, in tx. A file the
// upload rules refuse is an *EvidenceError.
func storeEvidence(ctx context.Context, tx *gorm.DB, s AppealSubmission, by *User, now time.Time) ([]*StoredFile, error) {
	var stored []*StoredFile
	for _, f := range s.Evidence {
		r, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("store: open evidence: %w", err)
		}
		sf, err := s.Files.Save(ctx, tx, f.Name, r, s.Uploads, by.ID, now)
		r.Close()
		switch {
		case errors.Is(err, ErrUploadEmpty), errors.Is(err, ErrUploadTooLarge), errors.Is(err, ErrUploadType):
			return nil, &EvidenceError{Name: SanitizeFileName(f.Name), Err: err}
		case err != nil:
			return nil, err
		}
		stored = append(stored, sf)
	}
	return stored, nil
}

// createAppeal records the appeal against d with its evidence, its receipt
// number and its audit row, in tx.
func createAppeal(ctx context.Context, tx *gorm.DB, d *Decision, in AppealInput, evidence []*StoredFile, by *User,
	answerDays int, now time.Time) (*Appeal, error) {
	orgID := *by.OrganisationID
	a := &Appeal{DecisionID: d.ID, OrganisationID: orgID, FiledByID: by.ID, Ground: in.Ground,
		Statement: strings.TrimSpace(in.Statement), Status: AppealReceived, IdempotencyKey: in.IdempotencyKey,
		FiledAt: now.UTC(), AnswerBy: now.UTC().AddDate(0, 0, answerDays),
		Receipt: pendingReceipt(orgID, in.IdempotencyKey)}
	for _, f := range evidence {
		a.Evidence = append(a.Evidence, AppealEvidence{FileID: f.ID})
	}
	if err := tx.Create(a).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return nil, fmt.Errorf("store: file appeal: %w", ErrConflict)
		}
		return nil, fmt.Errorf("store: file appeal: %w", err)
	}
	a.Receipt = AppealReceipt(a.ID, now)
	if err := tx.Model(a).Update("receipt", a.Receipt).Error; err != nil {
		return nil, fmt.Errorf("store: file appeal receipt: %w", err)
	}
	err := RecordAudit(ctx, tx, ActorOf(by), "appeal.file", "appeal", fmt.Sprint(a.ID),
		fmt.Sprintf("decision %d, ground %s, receipt %s, %d evidence files", d.ID, a.Ground, a.Receipt, len(evidence)), now)
	if err != nil {
		return nil, err
	}
	if err := notifyAppealFiled(ctx, tx, d, a, now); err != nil {
		return nil, err
	}
	return a, nil
}

// appealByKey is the organisation's appeal filed with an idempotency key, or nil.
func appealByKey(ctx context.Context, db *gorm.DB, orgID uint, key string) (*Appeal, error) {
	var a Appeal
	err := db.WithContext(ctx).Where("organisation_id = ? AND idempotency_key = ?", orgID, key).First(&a).Error
	switch {
	case errors.Is(err, gorm.ErrRecordNotFound):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("store: appeal by key: %w", err)
	}
	return &a, nil
}
