package models_test

import (
	"math"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm/schema"

	"kaiportal/models"
)

func TestCheckText(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		s    string
		max  int
		kind models.TextKind
		want string
	}{
		{"empty", "", 10, models.SingleLine, ""},
		{"Korean at the limit", "가나다라마", 5, models.SingleLine, ""},
		{"Korean over the limit counts characters, not bytes", "가나다라마바", 5, models.SingleLine, models.MsgTooLong},
		{"ASCII at the limit", strings.Repeat("a", 300), 300, models.SingleLine, ""},
		{"ASCII over the limit", strings.Repeat("a", 301), 300, models.SingleLine, models.MsgTooLong},
		{"emoji is one character", "👍🏽", 2, models.SingleLine, ""},
		{"NUL", "a\x00b", 10, models.SingleLine, models.MsgTextInvalid},
		{"NUL in multi-line", "a\x00b", 10, models.MultiLine, models.MsgTextInvalid},
		{"invalid UTF-8", "a\xffb", 10, models.SingleLine, models.MsgTextInvalid},
		{"truncated UTF-8", "가"[:2], 10, models.MultiLine, models.MsgTextInvalid},
		{"UTF-8 surrogate", "\xed\xa0\x80", 10, models.MultiLine, models.MsgTextInvalid},
		{"bell", "a\ab", 10, models.MultiLine, models.MsgTextInvalid},
		{"escape", "\x1b[31m", 10, models.MultiLine, models.MsgTextInvalid},
		{"DEL", "a\x7f", 10, models.SingleLine, models.MsgTextInvalid},
		{"C1 control", "a\u0085", 10, models.MultiLine, models.MsgTextInvalid},
		{"newline in one line", "a\nb", 10, models.SingleLine, models.MsgTextInvalid},
		{"tab in one line", "a\tb", 10, models.SingleLine, models.MsgTextInvalid},
		{"CRLF and tab in several lines", "a\r\n\tb", 10, models.MultiLine, ""},
		{"bad characters win over length", "\x00" + strings.Repeat("a", 20), 10, models.SingleLine, models.MsgTextInvalid},
	}
	for _, tc := range cases {
		if got := models.CheckText(tc.s, tc.max, tc.kind); got != tc.want {
			t.Errorf("%s: CheckText(%q, %d) = %q, want %q", tc.name, tc.s, tc.max, got, tc.want)
		}
		errs := models.FieldErrors{}
		errs.CheckText("f", tc.s, tc.max, tc.kind)
		if errs["f"] != tc.want {
			t.Errorf("%s: FieldErrors.CheckText recorded %q, want %q", tc.name, errs["f"], tc.want)
		}
	}
	if !models.ValidQueryText("정예팀 solar") || models.ValidQueryText("a\x00") || models.ValidQueryText("\xff") {
		t.Error("ValidQueryText")
	}
}

// The limits in text.go and the gorm column sizes say the same: a sized
// column holds exactly its field's limit, a text column has no size.
func TestTextLimitsMatchColumns(t *testing.T) {
	t.Parallel()
	cases := []struct {
		model any
		field string
		max   int
		text  bool // an unsized text column
	}{
		{&models.Call{}, "TitleKO", models.MaxCallTitle, false},
		{&models.Call{}, "TitleEN", models.MaxCallTitle, false},
		{&models.Call{}, "DescriptionKO", models.MaxCallDescription, true},
		{&models.Call{}, "DescriptionEN", models.MaxCallDescription, true},
		{&models.Criterion{}, "NameKO", models.MaxCriterionName, false},
		{&models.Criterion{}, "NameEN", models.MaxCriterionName, false},
		{&models.RequiredDocument{}, "NameKO", models.MaxDocumentName, false},
		{&models.RequiredDocument{}, "NameEN", models.MaxDocumentName, false},
		{&models.Application{}, "TitleKO", models.MaxApplicationTitle, false},
		{&models.Application{}, "TitleEN", models.MaxApplicationTitle, false},
		{&models.Application{}, "Summary", models.MaxApplicationSummary, true},
		{&models.Organisation{}, "NameKO", models.MaxOrganisationName, false},
		{&models.Organisation{}, "NameEN", models.MaxOrganisationName, false},
		{&models.Appeal{}, "Statement", models.MaxAppealStatement, true},
		{&models.Appeal{}, "Reasons", models.MaxAppealReasons, true},
		{&models.Appeal{}, "IdempotencyKey", models.MaxIdempotencyKey, false},
		{&models.Score{}, "Comment", models.MaxScoreComment, true},
		{&models.Decision{}, "NoticeKO", models.MaxNotice, true},
		{&models.Decision{}, "NoticeEN", models.MaxNotice, true},
		{&models.NamingGrant{}, "Names", models.MaxGrantNames, true},
		{&models.NamingGrant{}, "Basis", models.MaxGrantBasis, true},
		{&models.NamingGrant{}, "RevocationReason", models.MaxRevocationReason, true},
		{&models.ExtraHoliday{}, "NameKO", models.MaxHolidayName, false},
		{&models.ExtraHoliday{}, "NameEN", models.MaxHolidayName, false},
		{&models.Cluster{}, "Name", models.MaxClusterText, false},
		{&models.Cluster{}, "Provider", models.MaxClusterText, false},
		{&models.Cluster{}, "Region", models.MaxClusterText, false},
		{&models.Cluster{}, "GPUModel", models.MaxClusterText, false},
		{&models.Cluster{}, "Endpoints", models.MaxClusterEndpoints, true},
		{&models.Allocation{}, "Note", models.MaxAllocationNote, true},
		{&models.AllocationGPU{}, "GPUUUID", models.MaxGPUUUID, false},
		{&models.GPU{}, "UUID", models.MaxGPUUUID, false},
		{&models.GPU{}, "Node", models.MaxNodeName, false},
	}
	cache := &sync.Map{}
	for _, tc := range cases {
		s, err := schema.Parse(tc.model, cache, schema.NamingStrategy{})
		if err != nil {
			t.Fatal(err)
		}
		f := s.LookUpField(tc.field)
		if f == nil {
			t.Errorf("%s has no field %s", s.Name, tc.field)
			continue
		}
		switch {
		case tc.text && (f.Size != 0 || !strings.EqualFold(string(f.DataType), "text") && !strings.Contains(strings.ToLower(f.TagSettings["TYPE"]), "text")):
			t.Errorf("%s.%s: want an unsized text column (limit %d in models), got size %d type %q", s.Name, tc.field, tc.max, f.Size, f.TagSettings["TYPE"])
		case !tc.text && f.Size != tc.max:
			t.Errorf("%s.%s: column size %d, limit %d: they must agree", s.Name, tc.field, f.Size, tc.max)
		}
	}
}

// A criterion weight must be a number in (0, 100]: NaN, infinities, zero
// and negative weights are field errors on the criterion's row.
func TestCallCriterionWeight(t *testing.T) {
	t.Parallel()
	for _, w := range []float64{math.NaN(), math.Inf(1), math.Inf(-1), -10, 0, 150} {
		c := validCall()
		c.Criteria[0].Weight = w
		if errs := c.Validate(); errs["criteria.0"] != "call.error.criterion_weight" {
			t.Errorf("weight %v: errors %v, want call.error.criterion_weight on criteria.0", w, errs)
		}
	}
	if errs := validCall().Validate(); errs.Any() {
		t.Fatalf("the valid call is refused: %v", errs)
	}
}

// Every Validate applies the text rule to its typed fields.
func TestValidateAppliesTextRule(t *testing.T) {
	t.Parallel()
	long := func(n int) string { return strings.Repeat("가", n+1) }
	call := func(edit func(*models.Call)) models.FieldErrors {
		c := validCall()
		edit(c)
		return c.Validate()
	}
	app := func(edit func(*models.Application)) models.FieldErrors {
		a := &models.Application{TitleKO: "제목", TitleEN: "Title", Summary: "요약"}
		edit(a)
		return a.Validate()
	}
	cluster := func(edit func(*models.Cluster)) models.FieldErrors {
		c := &models.Cluster{Name: "c", Provider: "p", Region: "r", GPUModel: "NVIDIA B200", GPUCount: 8,
			SourceKind: models.SourceSimulator, PollSeconds: 15}
		edit(c)
		return c.Validate()
	}
	alloc := func(edit func(*models.AllocationInput)) models.FieldErrors {
		in := &models.AllocationInput{OrganisationID: 1, ClusterID: 1, BlockKind: models.BlockCustom, GPUCount: 1,
			From: "2026-01-01", To: "2026-06-30", UUIDs: []string{"GPU-1"}}
		edit(in)
		return in.Validate()
	}
	grant := func(edit func(*models.GrantInput)) models.FieldErrors {
		in := models.GrantInput{Kind: models.NamingModel, HolderID: 1, Names: "Solar Pro", ValidFrom: "2026-01-01", Basis: "선정 결정"}
		edit(&in)
		return in.Validate()
	}
	appeal := func(edit func(*models.AppealInput)) models.FieldErrors {
		in := models.AppealInput{DecisionID: 1, Ground: models.GroundProceduralDefect, Statement: "사유",
			IdempotencyKey: models.RandomToken(24)}
		edit(&in)
		return in.Validate()
	}
	cases := []struct {
		name  string
		errs  models.FieldErrors
		field string
		want  string
	}{
		{"call title of 301 characters", call(func(c *models.Call) { c.TitleKO = long(models.MaxCallTitle) }), "title_ko", models.MsgTooLong},
		{"call title with NUL", call(func(c *models.Call) { c.TitleEN = "a\x00" }), "title_en", models.MsgTextInvalid},
		{"call description with invalid UTF-8", call(func(c *models.Call) { c.DescriptionKO = "\xff" }), "description_ko", models.MsgTextInvalid},
		{"criterion name with NUL", call(func(c *models.Call) { c.Criteria[1].NameEN = "x\x00" }), "criteria.1", models.MsgTextInvalid},
		{"document name too long", call(func(c *models.Call) { c.Documents[0].NameKO = long(models.MaxDocumentName) }), "documents.0", models.MsgTooLong},
		{"application title with NUL", app(func(a *models.Application) { a.TitleKO = "\x00" }), "title_ko", models.MsgTextInvalid},
		{"application English title too long", app(func(a *models.Application) { a.TitleEN = long(models.MaxApplicationTitle) }), "title_en", models.MsgTooLong},
		{"application summary with invalid UTF-8", app(func(a *models.Application) { a.Summary = "요약\xc3" }), "summary", models.MsgTextInvalid},
		{"application summary keeps its lines", app(func(a *models.Application) { a.Summary = "첫째\r\n\t둘째" }), "summary", ""},
		{"organisation name with NUL", models.ValidateOrganisationNames("기관\x00", "Org"), "name_ko", models.MsgTextInvalid},
		{"appeal statement with NUL", appeal(func(in *models.AppealInput) { in.Statement = "사유\x00" }), "statement", models.MsgTextInvalid},
		{"appeal key with NUL", appeal(func(in *models.AppealInput) { in.IdempotencyKey = strings.Repeat("k", 20) + "\x00" }), "idempotency_key", "appeal.error.form_expired"},
		{"appeal reasons too long", models.ValidateAppealReasons(long(models.MaxAppealReasons)), "reasons", models.MsgTooLong},
		{"score comment with NUL", models.ValidateScores([]models.Criterion{{ID: 7, MaxScore: 10}},
			[]models.ScoreInput{{CriterionID: 7, Value: 5, Comment: "좋음\x00"}}), "score.7", models.MsgTextInvalid},
		{"grant name too long", grant(func(in *models.GrantInput) { in.Names = "Solar\n" + long(models.MaxGrantName) }), "names", models.MsgTooLong},
		{"grant basis with NUL", grant(func(in *models.GrantInput) { in.Basis = "\x00" }), "basis", models.MsgTextInvalid},
		{"revocation reason with invalid UTF-8", models.ValidateRevocationReason("\xff"), "reason", models.MsgTextInvalid},
		{"holiday name too long", models.ValidateHoliday("2026-10-02", long(models.MaxHolidayName), "Day"), "name_ko", models.MsgTooLong},
		{"cluster region with NUL", cluster(func(c *models.Cluster) { c.Region = "KR\x00" }), "region", models.MsgTextInvalid},
		{"cluster name too long", cluster(func(c *models.Cluster) { c.Name = long(models.MaxClusterText) }), "name", models.MsgTooLong},
		{"cluster token too long", cluster(func(c *models.Cluster) { c.BearerToken = strings.Repeat("t", models.MaxBearerToken+1) }), "bearer_token", models.MsgTooLong},
		{"cluster token with NUL", cluster(func(c *models.Cluster) { c.BearerToken = "tok\x00" }), "bearer_token", models.MsgTextInvalid},
		{"allocation note with NUL", alloc(func(in *models.AllocationInput) { in.Note = "\x00" }), "note", models.MsgTextInvalid},
		{"allocation UUID with invalid UTF-8", alloc(func(in *models.AllocationInput) { in.UUIDs = []string{"GPU-\xff"} }), "uuids", models.MsgTextInvalid},
		{"allocation node with NUL", alloc(func(in *models.AllocationInput) { in.Nodes = []string{"node\x00"} }), "gpus", models.MsgTextInvalid},
	}
	for _, tc := range cases {
		if got := tc.errs[tc.field]; got != tc.want {
			t.Errorf("%s: error on %s = %q, want %q (all: %v)", tc.name, tc.field, got, tc.want, tc.errs)
		}
	}
}

// validCall is a call that passes Validate: two criteria, one document.
func validCall() *models.Call {
	c := &models.Call{TitleKO: "공모", TitleEN: "Call", Slots: 5,
		Criteria: []models.Criterion{{NameKO: "기술", NameEN: "Tech", Weight: 60, MaxScore: 100},
			{NameKO: "사업", NameEN: "Business", Weight: 40, MaxScore: 100}},
		Documents: []models.RequiredDocument{{NameKO: "계획서", NameEN: "Plan", Required: true}}}
	c.OpensAt = gpuNow
	c.ClosesAt = gpuNow.AddDate(0, 0, 30)
	return c
}
