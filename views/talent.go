package views

import "kaiportal/models"

// TalentView lists the talent support lines the user may see, with the
// form of a new one for the ministry.
type TalentView struct {
	Lines       []models.TalentLine
	CanEdit     bool
	Teams       []models.Organisation
	Form        models.TalentInput
	Errors      models.FieldErrors
	MaxUploadMB int64
	Notice      string
}
