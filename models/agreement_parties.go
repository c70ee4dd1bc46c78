package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// agreementParties returns the parties of an agreement for a selected
// application, in signing order: the lead organisation, its current
// consortium members (by when they joined), and the ministry, which signs
// last. It reads the consortium as the application records it today.
func agreementParties(ctx context.Context, tx *gorm.DB, app *Application) ([]AgreementParty, error) {
	var members []ConsortiumMember
	if err := tx.WithContext(ctx).Where("application_id = ?", app.ID).Order("id").Find(&members).Error; err != nil {
		return nil, fmt.Errorf("store: agreement parties of application %d: %w", app.ID, err)
	}
	ministry, err := ministryOrganisation(ctx, tx)
	if err != nil {
		return nil, err
	}
	parties := []AgreementParty{{OrganisationID: app.LeadOrgID, Role: SignerLead}}
	for _, m := range members {
		if m.OrganisationID == app.LeadOrgID || m.OrganisationID == ministry.ID {
			continue
		}
		parties = append(parties, AgreementParty{OrganisationID: m.OrganisationID, Role: SignerMember})
	}
	parties = append(parties, AgreementParty{OrganisationID: ministry.ID, Role: SignerMinistry})
	for i := range parties {
		parties[i].Position = i + 1
	}
	return parties, nil
}

// ministryOrganisation returns the ministry: the first organisation of
// kind ministry.
func ministryOrganisation(ctx context.Context, tx *gorm.DB) (*Organisation, error) {
	var o Organisation
	if err := tx.WithContext(ctx).Where("kind = ?", OrgMinistry).Order("id").First(&o).Error; err != nil {
		return nil, notFound("store: the ministry's organisation", err)
	}
	return &o, nil
}
