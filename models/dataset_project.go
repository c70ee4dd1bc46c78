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

// Per-team dataset construction (팀별 데이터셋 구축): projects that build a
// dataset for one team, with their scope, provider, milestones, status and
// deliverables. Officers record and update them; the team reads its own.

// Audit actions of dataset projects.
const (
	ActionProjectCreate = "data.project_create"
	ActionProjectUpdate = "data.project_update"
)

// ProjectStatus is where a dataset project stands.
type ProjectStatus string

// Project statuses.
const (
	ProjectPlanned    ProjectStatus = "planned"
	ProjectInProgress ProjectStatus = "in_progress"
	ProjectCompleted  ProjectStatus = "completed"
	ProjectCancelled  ProjectStatus = "cancelled"
)

// ProjectStatuses lists every status.
var ProjectStatuses = []ProjectStatus{ProjectPlanned, ProjectInProgress, ProjectCompleted, ProjectCancelled}

// DatasetProject is one team's dataset construction project.
type DatasetProject struct {
	ID             uint          `gorm:"primaryKey"`
	OrganisationID uint          `gorm:"not null;index"`
	Organisation   Organisation  `gorm:"foreignKey:OrganisationID"`
	Title          string        `gorm:"size:200;not null"`
	Scope          string        `gorm:"type:text;not null"`
	Provider       string        `gorm:"size:200;not null"`
	Milestones     string        `gorm:"type:text;not null;default:''"` // one a line: "2026-03-31 what"
	Status         ProjectStatus `gorm:"size:16;not null"`
	Deliverables   string        `gorm:"type:text;not null;default:''"`
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// MaySee reports whether u may read the project: its team, the ministry
// and auditors.
func (p *DatasetProject) MaySee(u *User) bool { return u.MaySeeOrganisation(p.OrganisationID) }

// MilestoneList returns the project's milestones by date.
func (p *DatasetProject) MilestoneList() []Milestone {
	ms, _ := parseMilestones(p.Milestones)
	return ms
}

// ProjectInput is the project form as sent.
type ProjectInput struct {
	OrganisationID, Title, Scope, Provider, Milestones, Status, Deliverables string
}

// check validates the form (the team is checked by the store).
func (in ProjectInput) check() (*DatasetProject, FieldErrors) {
	errs := FieldErrors{}
	p := &DatasetProject{Title: textField(errs, "title", in.Title, 200), Scope: textField(errs, "scope", in.Scope, 4000),
		Provider: textField(errs, "provider", in.Provider, 200), Status: ProjectStatus(in.Status),
		Deliverables: strings.TrimSpace(in.Deliverables)}
	if !slices.Contains(ProjectStatuses, p.Status) {
		errs.Add("status", "support.error.status")
	}
	ms, ok := parseMilestones(in.Milestones)
	if !ok {
		errs.Add("milestones", "support.error.milestones")
	}
	var lines []string
	for _, m := range ms {
		lines = append(lines, m.Due.String()+" "+m.Title)
	}
	p.Milestones = strings.Join(lines, "\n")
	return p, errs
}

// CreateProject records a dataset project for a team (an organisation with
// an agreement in force).
func CreateProject(ctx context.Context, db *gorm.DB, in ProjectInput, by *User, now time.Time) (*DatasetProject, error) {
	p, errs := in.check()
	ids := parseIDs(errs, "organisation_id", []string{in.OrganisationID})
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if len(ids) == 1 {
			switch err := checkTeam(ctx, tx, ids[0], now); {
			case errors.Is(err, ErrNotTeam):
				errs.Add("organisation_id", "support.error.not_team")
			case err != nil:
				return err
			}
			p.OrganisationID = ids[0]
		}
		if errs.Any() {
			return &FieldsError{Fields: errs}
		}
		p.CreatedAt, p.UpdatedAt = now.UTC(), now.UTC()
		if err := tx.Create(p).Error; err != nil {
			return fmt.Errorf("store: create project: %w", err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), ActionProjectCreate, "dataset_project", fmt.Sprint(p.ID),
			fmt.Sprintf("project %q for organisation %d with %s: %s", p.Title, p.OrganisationID, p.Provider, p.Status), now)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// UpdateProject records a project's new state; its team does not change.
func UpdateProject(ctx context.Context, db *gorm.DB, id uint, in ProjectInput, by *User, now time.Time) (*DatasetProject, error) {
	p, errs := in.check()
	if errs.Any() {
		return nil, &FieldsError{Fields: errs}
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var old DatasetProject
		if err := tx.First(&old, id).Error; err != nil {
			return notFound(fmt.Sprintf("store: project %d", id), err)
		}
		p.ID, p.OrganisationID, p.CreatedAt, p.UpdatedAt = id, old.OrganisationID, old.CreatedAt, now.UTC()
		if err := tx.Select("*").Omit("Organisation").Save(p).Error; err != nil {
			return fmt.Errorf("store: update project %d: %w", id, err)
		}
		return RecordAudit(ctx, tx, ActorOf(by), ActionProjectUpdate, "dataset_project", fmt.Sprint(id),
			fmt.Sprintf("project %q: %s → %s", p.Title, old.Status, p.Status), now)
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// GetProject loads a project with its team.
func GetProject(ctx context.Context, db *gorm.DB, id uint) (*DatasetProject, error) {
	var p DatasetProject
	if err := db.WithContext(ctx).Preload("Organisation").First(&p, id).Error; err != nil {
		return nil, notFound(fmt.Sprintf("store: project %d", id), err)
	}
	return &p, nil
}

// ListProjects returns the projects u may see, by team and title.
func ListProjects(ctx context.Context, db *gorm.DB, u *User) ([]DatasetProject, error) {
	own, ok := u.OrganisationScope()
	if !ok {
		return nil, nil
	}
	q := db.WithContext(ctx).Preload("Organisation")
	if own != nil {
		q = q.Where("organisation_id = ?", *own)
	}
	var out []DatasetProject
	if err := q.Order("organisation_id, title, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: projects: %w", err)
	}
	return out, nil
}
