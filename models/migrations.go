package models

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// migrateLockKey is the PostgreSQL advisory lock held while migrating, so
// that instances starting together migrate one after the other.
const migrateLockKey = 0x4b41_4955_4d49_4752 // "KAIUMIGR"

// migrations lists every schema change in order. Never edit one that has
// shipped: add a new one.
func migrations() []*gormigrate.Migration {
	return []*gormigrate.Migration{
		{
			ID: "2026112701_foundation",
			Migrate: func(tx *gorm.DB) error {
				// Frozen copies of the types as they were at this migration would be
				// the strict form; the types have not changed since, so they serve.
				if err := tx.AutoMigrate(&Organisation{}, &User{}, &Session{}, &loginAttemptV1{},
					&AuditEntry{}, &Programme{}, &Call{}); err != nil {
					return err
				}
				return appendOnlyAudit(tx)
			},
			Rollback: func(tx *gorm.DB) error {
				return tx.Migrator().DropTable(&Call{}, &Programme{}, &AuditEntry{}, &loginAttemptV1{},
					&Session{}, &User{}, &Organisation{})
			},
		},
		{
			ID: "2026112702_applications",
			Migrate: func(tx *gorm.DB) error {
				if err := tx.AutoMigrate(&Call{}, &Criterion{}, &RequiredDocument{}, &StoredFile{},
					&Application{}, &ConsortiumMember{}, &ApplicationDocument{}, &ReviewAssignment{}, &Score{},
					&Decision{}, &DecisionEntry{}); err != nil {
					return err
				}
				return immutable(tx, "decisions", "decision_entries")
			},
			Rollback: func(tx *gorm.DB) error {
				return tx.Migrator().DropTable(&DecisionEntry{}, &Decision{}, &Score{}, &ReviewAssignment{},
					&ApplicationDocument{}, &ConsortiumMember{}, &Application{}, &StoredFile{}, &RequiredDocument{}, &Criterion{})
			},
		},
		{
			ID: "2026112703_appeals_naming",
			Migrate: func(tx *gorm.DB) error {
				return tx.AutoMigrate(&Decision{}, &ExtraHoliday{}, &Appeal{}, &AppealEvidence{}, &NamingGrant{})
			},
			Rollback: func(tx *gorm.DB) error {
				if err := tx.Migrator().DropTable(&NamingGrant{}, &AppealEvidence{}, &Appeal{}, &ExtraHoliday{}); err != nil {
					return err
				}
				return tx.Migrator().DropColumn(&Decision{}, "SupersedesID")
			},
		},
		{
			ID: "2026112704_gpus",
			Migrate: func(tx *gorm.DB) error {
				return tx.AutoMigrate(&Cluster{}, &GPU{}, &Allocation{}, &AllocationGPU{}, &GPURollup{}, &GPURollupDay{}, &ClusterLease{})
			},
			Rollback: func(tx *gorm.DB) error {
				return tx.Migrator().DropTable(&ClusterLease{}, &GPURollupDay{}, &GPURollup{}, &AllocationGPU{}, &Allocation{}, &GPU{}, &Cluster{})
			},
		},
		{
			// The generated parts of a decision's notice (window sentence,
			// statement of remedies) and its hash version: decisions already
			// published keep version 1, whose hash leaves them out. Columns are
			// added one by one: rebuilding the immutable decisions table would
			// drop its triggers.
			ID: "2026112705_legal_notices",
			Migrate: func(tx *gorm.DB) error {
				return addColumns(tx, map[any][]string{
					&Call{}:     {"RemediesKO", "RemediesEN"},
					&Decision{}: {"WindowNoticeKO", "WindowNoticeEN", "RemediesKO", "RemediesEN", "HashVersion"},
					&Appeal{}:   {"RemediesKO", "RemediesEN"},
				})
			},
			Rollback: func(tx *gorm.DB) error {
				// Plain ALTER TABLE: gorm's SQLite DropColumn rebuilds the table.
				for table, cols := range map[string][]string{
					"calls":     {"remedies_ko", "remedies_en"},
					"decisions": {"window_notice_ko", "window_notice_en", "remedies_ko", "remedies_en", "hash_version"},
					"appeals":   {"remedies_ko", "remedies_en"},
				} {
					for _, col := range cols {
						if err := tx.Exec("ALTER TABLE " + table + " DROP COLUMN " + col).Error; err != nil {
							return err
						}
					}
				}
				return nil
			},
		},
		{
			// Sign-in requests move into a sealed cookie (only used states are
			// recorded); sessions keep the provider's sealed tokens and when the
			// role was last confirmed; users keep the provider's role apart from
			// one set in the portal. Sessions from before have no tokens: their
			// first re-check ends them, and their users sign in again.
			ID: "2026120101_role_recheck",
			Migrate: func(tx *gorm.DB) error {
				if err := tx.AutoMigrate(&User{}, &Session{}, &UsedLoginState{}); err != nil {
					return err
				}
				if err := tx.Exec("UPDATE users SET provider_role = role WHERE provider_role = ''").Error; err != nil {
					return err
				}
				if err := tx.Exec("UPDATE sessions SET role_checked_at = created_at WHERE role_checked_at IS NULL").Error; err != nil {
					return err
				}
				return tx.Migrator().DropTable(&loginAttemptV1{})
			},
			Rollback: func(tx *gorm.DB) error {
				if err := tx.AutoMigrate(&loginAttemptV1{}); err != nil {
					return err
				}
				if err := tx.Migrator().DropTable(&UsedLoginState{}); err != nil {
					return err
				}
				for _, col := range []string{"ProviderToken", "RoleCheckedAt", "RecheckStartedAt"} {
					if err := tx.Migrator().DropColumn(&Session{}, col); err != nil {
						return err
					}
				}
				for _, col := range []string{"ProviderRole", "RoleOverride"} {
					if err := tx.Migrator().DropColumn(&User{}, col); err != nil {
						return err
					}
				}
				return nil
			},
		},
		{
			ID: "2026120102_holiday_sources",
			Migrate: func(tx *gorm.DB) error {
				if err := tx.AutoMigrate(&BuiltinHolidayRecord{}, &HolidayList{}, &HolidayListDay{}); err != nil {
					return err
				}
				return recordBuiltinHolidays(tx, "2024.1", "2026.1")
			},
			Rollback: func(tx *gorm.DB) error {
				return tx.Migrator().DropTable(&HolidayListDay{}, &HolidayList{}, &BuiltinHolidayRecord{})
			},
		},
		{
			ID: "2026120103_saved_forms",
			Migrate: func(tx *gorm.DB) error {
				return tx.AutoMigrate(&SavedForm{})
			},
			Rollback: func(tx *gorm.DB) error {
				return tx.Migrator().DropTable(&SavedForm{})
			},
		},
		{
			// How far the audit chain has been verified, so that the pages
			// verify only the rows added since.
			ID: "2026120104_audit_checkpoint",
			Migrate: func(tx *gorm.DB) error {
				if err := tx.AutoMigrate(&AuditCheckpoint{}); err != nil {
					return err
				}
				return ensureAuditCheckpoint(tx)
			},
			Rollback: func(tx *gorm.DB) error {
				return tx.Migrator().DropTable(&AuditCheckpoint{})
			},
		},
		{
			// The data version that every change of the data the pages show
			// moves on, so that a page cache on any instance sees any
			// instance's change (dataversion.go). A table added later gets
			// its triggers in its own migration (versionTables).
			ID: "2026120601_data_version",
			Migrate: func(tx *gorm.DB) error {
				if err := tx.AutoMigrate(&DataVersion{}); err != nil {
					return err
				}
				if err := versionTables(tx, versionedAt2026120601...); err != nil {
					return err
				}
				return sessionRevisions(tx)
			},
			Rollback: func(tx *gorm.DB) error {
				if err := dropSessionRevisions(tx); err != nil {
					return err
				}
				if err := unversionTables(tx, versionedAt2026120601...); err != nil {
					return err
				}
				return tx.Migrator().DropTable(&DataVersion{})
			},
		},
		{
			// Rollups count time per physical GPU with the MIG instances as a
			// breakdown (their profile kept), XIDs as events (the last value kept
			// to carry the count on) and energy counter anomalies. Rows from
			// before read as they are: no profile, no anomaly, last XID unknown.
			ID: "2026120610_rollup_figures",
			Migrate: func(tx *gorm.DB) error {
				return addColumns(tx, map[any][]string{
					&GPURollup{}:    {"Profile", "EnergyAnomalies", "LastXID"},
					&GPURollupDay{}: {"Profile", "EnergyAnomalies"},
				})
			},
			Rollback: func(tx *gorm.DB) error {
				for table, cols := range map[string][]string{
					"gpu_rollups":     {"profile", "energy_anomalies", "last_xid"},
					"gpu_rollup_days": {"profile", "energy_anomalies"},
				} {
					for _, col := range cols {
						if err := tx.Exec("ALTER TABLE " + table + " DROP COLUMN " + col).Error; err != nil {
							return err
						}
					}
				}
				return nil
			},
		},
		{
			// A GPU UUID reported by a second cluster is refused there and
			// recorded, instead of moving the GPU and writing over its rows.
			ID: "2026120611_gpu_conflicts",
			Migrate: func(tx *gorm.DB) error {
				return tx.AutoMigrate(&GPUConflict{})
			},
			Rollback: func(tx *gorm.DB) error {
				return tx.Migrator().DropTable(&GPUConflict{})
			},
		},
		{
			// The collector's health: each endpoint's state, the clusters' last
			// failures and hourly poll and failure counts per endpoint.
			ID: "2026120620_collector_health",
			Migrate: func(tx *gorm.DB) error {
				return tx.AutoMigrate(&ClusterEndpoint{}, &PollFailure{}, &PollHour{})
			},
			Rollback: func(tx *gorm.DB) error {
				return tx.Migrator().DropTable(&PollHour{}, &PollFailure{}, &ClusterEndpoint{})
			},
		},
		{
			// Each rollup records the busy threshold it was folded at (rows
			// from before counted anything above 0 % and read 0); providers'
			// downtime windows are recorded per cluster.
			ID: "2026120630_busy_threshold_downtime",
			Migrate: func(tx *gorm.DB) error {
				if err := addColumns(tx, map[any][]string{
					&GPURollup{}:    {"BusyThresholdPct"},
					&GPURollupDay{}: {"BusyThresholdMin", "BusyThresholdPct"},
				}); err != nil {
					return err
				}
				return tx.AutoMigrate(&Downtime{})
			},
			Rollback: func(tx *gorm.DB) error {
				if err := tx.Migrator().DropTable(&Downtime{}); err != nil {
					return err
				}
				for table, cols := range map[string][]string{
					"gpu_rollups":     {"busy_threshold_pct"},
					"gpu_rollup_days": {"busy_threshold_min", "busy_threshold_pct"},
				} {
					for _, col := range cols {
						if err := tx.Exec("ALTER TABLE " + table + " DROP COLUMN " + col).Error; err != nil {
							return err
						}
					}
				}
				return nil
			},
		},
		{
			// GPU time by workload (Slurm job or Kubernetes pod) per GPU and hour.
			ID: "2026120631_gpu_workload_hours",
			Migrate: func(tx *gorm.DB) error {
				return tx.AutoMigrate(&GPUWorkloadHour{})
			},
			Rollback: func(tx *gorm.DB) error {
				return tx.Migrator().DropTable(&GPUWorkloadHour{})
			},
		},
		{
			// The allocation lifecycle: when each GPU joined and left, the
			// nodes allocated while their cluster was down, why an
			// allocation ended early, and the history of changes.
			ID: "2026120640_allocation_lifecycle",
			Migrate: func(tx *gorm.DB) error {
				if err := addColumns(tx, map[any][]string{
					&AllocationGPU{}: {"JoinedAt", "LeftAt"},
					&Allocation{}:    {"PendingNodes", "EndReason"},
				}); err != nil {
					return err
				}
				return tx.AutoMigrate(&AllocationChange{})
			},
			Rollback: func(tx *gorm.DB) error {
				if err := tx.Migrator().DropTable(&AllocationChange{}); err != nil {
					return err
				}
				for table, cols := range map[string][]string{
					"allocation_gpus": {"joined_at", "left_at"},
					"allocations":     {"pending_nodes", "end_reason"},
				} {
					for _, col := range cols {
						if err := tx.Exec("ALTER TABLE " + table + " DROP COLUMN " + col).Error; err != nil {
							return err
						}
					}
				}
				return nil
			},
		},
		{
			// The data version's triggers on the tables added since that the
			// pages read (officers' downtime windows and allocation changes);
			// the collector's tables, written every poll, stay unversioned.
			ID: "2026120650_data_version_tables",
			Migrate: func(tx *gorm.DB) error {
				return versionTables(tx, "downtimes", "allocation_changes")
			},
			Rollback: func(tx *gorm.DB) error {
				return unversionTables(tx, "downtimes", "allocation_changes")
			},
		},
		{
			// Hours folded before the collector counted XID events hold the
			// number of samples that carried an XID (240 an hour for one
			// XID 79 at 15 s). They become events: see legacyXIDEvents.
			ID:      "2026120730_legacy_xid_events",
			Migrate: legacyXIDEvents,
			// The sample counts are not kept: nothing to roll back to.
			Rollback: func(*gorm.DB) error { return nil },
		},
		{
			// A downtime window takes down the whole cluster, or some of
			// its nodes or GPUs; windows recorded before were the cluster's.
			ID: "2026120731_downtime_scope",
			Migrate: func(tx *gorm.DB) error {
				return addColumns(tx, map[any][]string{&Downtime{}: {"Scope", "Targets"}})
			},
			Rollback: func(tx *gorm.DB) error {
				for _, col := range []string{"scope", "targets"} {
					if err := tx.Exec("ALTER TABLE downtimes DROP COLUMN " + col).Error; err != nil {
						return err
					}
				}
				return nil
			},
		},
		{
			// Usage reports per allocation and month, their history, their
			// verifications against the telemetry and the verification
			// settings' versions; the pages read them all.
			ID: "2026120741_usage_reports",
			Migrate: func(tx *gorm.DB) error {
				if err := tx.AutoMigrate(&UsageReport{}, &UsageReportEvent{}, &UsageSettings{}, &VerificationResult{}); err != nil {
					return err
				}
				return versionTables(tx, usageReportTables...)
			},
			Rollback: func(tx *gorm.DB) error {
				if err := unversionTables(tx, usageReportTables...); err != nil {
					return err
				}
				return tx.Migrator().DropTable(&VerificationResult{}, &UsageSettings{}, &UsageReportEvent{}, &UsageReport{})
			},
		},
		{
			// Providers' invoice lines per allocation and month and their
			// history; their verifications are verification results that
			// name the line instead of a report.
			ID: "2026120761_invoice_lines",
			Migrate: func(tx *gorm.DB) error {
				if err := addColumns(tx, map[any][]string{&VerificationResult{}: {"InvoiceID", "ClaimAvailability"}}); err != nil {
					return err
				}
				if !tx.Migrator().HasIndex(&VerificationResult{}, "InvoiceID") {
					if err := tx.Migrator().CreateIndex(&VerificationResult{}, "InvoiceID"); err != nil {
						return err
					}
				}
				if err := tx.AutoMigrate(&InvoiceLine{}, &InvoiceLineEvent{}); err != nil {
					return err
				}
				return versionTables(tx, invoiceTables...)
			},
			Rollback: func(tx *gorm.DB) error {
				if err := unversionTables(tx, invoiceTables...); err != nil {
					return err
				}
				if err := tx.Migrator().DropTable(&InvoiceLineEvent{}, &InvoiceLine{}); err != nil {
					return err
				}
				if err := tx.Exec("DELETE FROM verification_results WHERE invoice_id <> 0").Error; err != nil {
					return err
				}
				for _, col := range []string{"invoice_id", "claim_availability"} {
					if err := tx.Migrator().DropColumn(&VerificationResult{}, col); err != nil {
						return err
					}
				}
				return nil
			},
		},
		{
			// The consortium: each member's share of the work and own GPUs,
			// the application's consortium version, and the invitations and
			// change requests that members consent to and officers decide.
			ID: "2026120810_consortium",
			Migrate: func(tx *gorm.DB) error {
				if err := addColumns(tx, map[any][]string{
					&ConsortiumMember{}: {"Share", "GPUCount", "GPUModel", "GPUNotes"},
					&Application{}:      {"ConsortiumVersion"},
				}); err != nil {
					return err
				}
				if err := tx.AutoMigrate(&ConsortiumRequest{}); err != nil {
					return err
				}
				return versionTables(tx, "consortium_requests")
			},
			Rollback: func(tx *gorm.DB) error {
				if err := unversionTables(tx, "consortium_requests"); err != nil {
					return err
				}
				if err := tx.Migrator().DropTable(&ConsortiumRequest{}); err != nil {
					return err
				}
				for model, cols := range map[any][]string{
					&ConsortiumMember{}: {"share", "gpu_count", "gpu_model", "gpu_notes"},
					&Application{}:      {"consortium_version"},
				} {
					for _, col := range cols {
						if err := tx.Migrator().DropColumn(model, col); err != nil {
							return err
						}
					}
				}
				return nil
			},
		},
		{
			// Agreements (협약): versions with their parties, budget and
			// signatures, authorised signers and notification-only changes;
			// K-AI names link to the agreement (and version) they rest on.
			ID: "2026120830_agreements",
			Migrate: func(tx *gorm.DB) error {
				if err := tx.AutoMigrate(agreementModels...); err != nil {
					return err
				}
				if err := addColumns(tx, map[any][]string{&NamingGrant{}: {"AgreementID", "AgreementVersionID"}}); err != nil {
					return err
				}
				for _, idx := range []string{"AgreementID", "idx_grant_agreement_kind"} {
					if !tx.Migrator().HasIndex(&NamingGrant{}, idx) {
						if err := tx.Migrator().CreateIndex(&NamingGrant{}, idx); err != nil {
							return err
						}
					}
				}
				return versionTables(tx, agreementTables...)
			},
			Rollback: func(tx *gorm.DB) error {
				if err := unversionTables(tx, agreementTables...); err != nil {
					return err
				}
				for _, idx := range []string{"idx_grant_agreement_kind", "idx_naming_grants_agreement_id"} {
					if tx.Migrator().HasIndex(&NamingGrant{}, idx) {
						if err := tx.Migrator().DropIndex(&NamingGrant{}, idx); err != nil {
							return err
						}
					}
				}
				for _, col := range []string{"agreement_version_id", "agreement_id"} {
					if err := tx.Migrator().DropColumn(&NamingGrant{}, col); err != nil {
						return err
					}
				}
				return tx.Migrator().DropTable(&AgreementNotice{}, &AgreementSigner{}, &AgreementSignature{}, &AgreementBudget{},
					&AgreementParty{}, &AgreementVersion{}, &Agreement{})
			},
		},
		{
			// PostgreSQL: the telemetry rows rewritten every minute (the
			// current hour's, its day's, its workloads', the GPUs' last
			// seen) leave room in each page for their next version, so
			// that an update stays on its page without new index entries
			// (a heap-only update): with full pages the collector's write
			// of 10,000 GPUs updated three indexes per row, every minute.
			// Pages written from now on keep the room.
			ID: "2026120870_telemetry_fillfactor",
			Migrate: func(tx *gorm.DB) error {
				return setFillFactor(tx, 70)
			},
			Rollback: func(tx *gorm.DB) error {
				return setFillFactor(tx, 100)
			},
		},
		{
			// Invoices' availability gets its own tolerance, in percentage
			// points: a settings column (the versions saved before carry
			// the default) and a results column (nil on the results
			// recorded before, which widened the range by the GPU-hours
			// tolerance and recompute so).
			ID: "2026120880_availability_tolerance",
			Migrate: func(tx *gorm.DB) error {
				if !tx.Migrator().HasColumn(&UsageSettings{}, "AvailabilityPoints") {
					err := tx.Exec(fmt.Sprintf("ALTER TABLE usage_settings ADD COLUMN availability_points double precision NOT NULL DEFAULT %d",
						DefaultAvailabilityPoints)).Error
					if err != nil {
						return err
					}
				}
				return addColumns(tx, map[any][]string{&VerificationResult{}: {"AvailabilityPoints"}})
			},
			Rollback: func(tx *gorm.DB) error {
				if err := tx.Migrator().DropColumn(&UsageSettings{}, "availability_points"); err != nil {
					return err
				}
				return tx.Migrator().DropColumn(&VerificationResult{}, "availability_points")
			},
		},
		{
			// Data support: demand surveys and the teams' demand, the
			// copyright-clearance ledger, joint purchases with their sources
			// and their deliveries to each team.
			ID: "2026120950_data_support",
			Migrate: func(tx *gorm.DB) error {
				if err := tx.AutoMigrate(dataModels...); err != nil {
					return err
				}
				return versionTables(tx, dataTables...)
			},
			Rollback: func(tx *gorm.DB) error {
				if err := unversionTables(tx, dataTables...); err != nil {
					return err
				}
				for _, t := range slices.Backward(dataTables) {
					if err := tx.Migrator().DropTable(t); err != nil {
						return err
					}
				}
				return nil
			},
		},
		{
			// Per-team dataset construction projects.
			ID: "2026120955_dataset_projects",
			Migrate: func(tx *gorm.DB) error {
				if err := tx.AutoMigrate(&DatasetProject{}); err != nil {
					return err
				}
				return versionTables(tx, "dataset_projects")
			},
			Rollback: func(tx *gorm.DB) error {
				if err := unversionTables(tx, "dataset_projects"); err != nil {
					return err
				}
				return tx.Migrator().DropTable(&DatasetProject{})
			},
		},
		{
			// Talent support lines per team and half-year, with evidence.
			ID: "2026120960_talent_lines",
			Migrate: func(tx *gorm.DB) error {
				if err := tx.AutoMigrate(&TalentLine{}); err != nil {
					return err
				}
				return versionTables(tx, "talent_lines")
			},
			Rollback: func(tx *gorm.DB) error {
				if err := unversionTables(tx, "talent_lines"); err != nil {
					return err
				}
				return tx.Migrator().DropTable(&TalentLine{})
			},
		},
		{
			// Follow-up programmes for the applicants not selected.
			ID: "2026120965_follow_ups",
			Migrate: func(tx *gorm.DB) error {
				if err := tx.AutoMigrate(&FollowUp{}); err != nil {
					return err
				}
				return versionTables(tx, "follow_ups")
			},
			Rollback: func(tx *gorm.DB) error {
				if err := unversionTables(tx, "follow_ups"); err != nil {
					return err
				}
				return tx.Migrator().DropTable(&FollowUp{})
			},
		},
		{
			// Stage evaluations (단계평가): stages with their criteria sets and
			// the sets' revisions, the teams' opinions and reports, the
			// evaluators with their declarations and scores, and imported
			// results.
			ID: "2026120920_stage_evaluations",
			Migrate: func(tx *gorm.DB) error {
				if err := tx.AutoMigrate(stageModels...); err != nil {
					return err
				}
				return versionTables(tx, stageTables...)
			},
			Rollback: func(tx *gorm.DB) error {
				if err := unversionTables(tx, stageTables...); err != nil {
					return err
				}
				return tx.Migrator().DropTable(&StageResult{}, &StageScore{}, &StageDeclaration{}, &StageEvaluator{},
					&StageReportFile{}, &StageReport{}, &StageOpinion{}, &StageRevision{}, &StageCriterion{}, &Stage{})
			},
		},
		{
			// Evaluators' assignments get the day they are due: reviews from
			// the call's close (DefaultReviewDue), a stage's scores on its
			// evaluation day; assignments made before get the same defaults.
			ID: "2026120990_assignment_due_days",
			Migrate: func(tx *gorm.DB) error {
				if err := addColumns(tx, map[any][]string{&ReviewAssignment{}: {"DueOn"}, &StageEvaluator{}: {"DueOn"}}); err != nil {
					return err
				}
				var calls []struct {
					ID       uint
					ClosesAt time.Time
				}
				if err := tx.Table("calls").Select("id, closes_at").Find(&calls).Error; err != nil {
					return err
				}
				for _, c := range calls {
					due := DefaultReviewDue(&Call{ClosesAt: c.ClosesAt}, KoreanHolidays)
					if err := tx.Exec("UPDATE review_assignments SET due_on = ? WHERE due_on = '' AND application_id IN "+
						"(SELECT id FROM applications WHERE call_id = ?)", due.String(), c.ID).Error; err != nil {
						return err
					}
				}
				return tx.Exec("UPDATE stage_evaluators SET due_on = " +
					"(SELECT evaluated_on FROM stages WHERE stages.id = stage_evaluators.stage_id) WHERE due_on = ''").Error
			},
			Rollback: func(tx *gorm.DB) error {
				for _, table := range []string{"review_assignments", "stage_evaluators"} {
					if err := tx.Exec("ALTER TABLE " + table + " DROP COLUMN due_on").Error; err != nil {
						return err
					}
				}
				return nil
			},
		},
		{
			// Notices: each user's inbox. Read and unread change per
			// request and no cached page reads them (the unread count is
			// put in for each request), so they do not move the data version.
			ID: "2026120980_inbox_messages",
			Migrate: func(tx *gorm.DB) error {
				return tx.AutoMigrate(&InboxMessage{})
			},
			Rollback: func(tx *gorm.DB) error {
				return tx.Migrator().DropTable(&InboxMessage{})
			},
		},
		{
			// Mail of the notices: each user's language and choice per
			// kind, and the outbox of mail to send. Per-user and
			// per-send rows that no cached page reads: unversioned.
			ID: "2026120981_mail_outbox",
			Migrate: func(tx *gorm.DB) error {
				return tx.AutoMigrate(&NoticeSettings{}, &NoticePreference{}, &MailJob{})
			},
			Rollback: func(tx *gorm.DB) error {
				return tx.Migrator().DropTable(&MailJob{}, &NoticePreference{}, &NoticeSettings{})
			},
		},
	}
}

// stageModels are the stage evaluations' types; stageTables their tables.
var (
	stageModels = []any{&Stage{}, &StageCriterion{}, &StageRevision{}, &StageOpinion{}, &StageReport{}, &StageReportFile{},
		&StageEvaluator{}, &StageDeclaration{}, &StageScore{}, &StageResult{}}
	stageTables = []string{"stages", "stage_criteria", "stage_revisions", "stage_opinions", "stage_reports", "stage_report_files",
		"stage_evaluators", "stage_declarations", "stage_scores", "stage_results"}
)

// agreementModels are the agreements' types; agreementTables their tables.
var (
	agreementModels = []any{&Agreement{}, &AgreementVersion{}, &AgreementParty{}, &AgreementBudget{},
		&AgreementSignature{}, &AgreementSigner{}, &AgreementNotice{}}
	agreementTables = []string{"agreements", "agreement_versions", "agreement_parties", "agreement_budgets",
		"agreement_signatures", "agreement_signers", "agreement_notices"}
)

// dataModels are data support's types (dataTables their tables, the
// purchases' join table included).
var dataModels = []any{&DataSurvey{}, &DataDemand{}, &DataSource{}, &DataPurchase{}, &DataDelivery{}}

// telemetryUpdatedTables are the tables the collector updates every minute.
var telemetryUpdatedTables = []string{"gpu_rollups", "gpu_rollup_days", "gpu_workload_hours", "gpus"}

// setFillFactor sets the fill factor of telemetryUpdatedTables on
// PostgreSQL (SQLite has none).
func setFillFactor(tx *gorm.DB, pct int) error {
	if tx.Dialector.Name() != "postgres" {
		return nil
	}
	for _, t := range telemetryUpdatedTables {
		if err := tx.Exec(fmt.Sprintf("ALTER TABLE %s SET (fillfactor = %d)", t, pct)).Error; err != nil {
			return err
		}
	}
	return nil
}

// usageReportTables are the usage reports' tables.
var usageReportTables = []string{"usage_reports", "usage_report_events", "usage_settings", "verification_results"}

// versionedAt2026120601 are the tables that the data version migration
// gave their triggers: every table then but unversionedTables.
var versionedAt2026120601 = []string{"allocation_gpus", "allocations", "appeal_evidences", "appeals",
	"application_documents", "applications", "audit_checkpoints", "audit_entries", "calls",
	"consortium_members", "criterions", "decision_entries", "decisions", "extra_holidays",
	"holiday_builtin_versions", "holiday_list_days", "holiday_lists", "naming_grants", "organisations",
	"programmes", "required_documents", "review_assignments", "schema_migrations", "scores",
	"stored_files", "users"}

// addColumns adds the fields' columns that a table lacks (the first
// migrations create tables from the current types, so a fresh database may
// have them already).
func addColumns(tx *gorm.DB, columns map[any][]string) error {
	for model, fields := range columns {
		for _, f := range fields {
			if tx.Migrator().HasColumn(model, f) {
				continue
			}
			if err := tx.Migrator().AddColumn(model, f); err != nil {
				return err
			}
		}
	}
	return nil
}

// loginAttemptV1 is the table of sign-in requests in flight as the
// foundation created it, before they moved into a sealed cookie.
type loginAttemptV1 struct {
	ID        string `gorm:"primaryKey;size:64"`
	Nonce     string `gorm:"size:64;not null"`
	Verifier  string `gorm:"size:128;not null"`
	ReturnTo  string `gorm:"size:512"`
	ExpiresAt time.Time
}

func (loginAttemptV1) TableName() string { return "login_attempts" }

// recordBuiltinHolidays records when the built-in table's version current
// took effect. A database with published decisions had windows computed
// with version previous until now, so current counts from now on (and
// windows closed by then keep the old table); a database without decisions
// uses current from the beginning.
func recordBuiltinHolidays(tx *gorm.DB, previous, current string) error {
	var n int64
	if err := tx.Table("decisions").Count(&n).Error; err != nil {
		return err
	}
	rows := []BuiltinHolidayRecord{{Version: current}}
	if n > 0 {
		rows = []BuiltinHolidayRecord{{Version: previous}, {Version: current, InEffectFrom: tx.Config.NowFunc()}}
	}
	return tx.Create(&rows).Error
}

// schemaModels are the types whose tables the migrations create. Readiness
// checks that each table is there; a test checks that the list names every
// table a migrated database has, so add a migration's new types here too.
func schemaModels() []any {
	return []any{
		&Organisation{}, &User{}, &Session{}, &InboxMessage{}, &NoticeSettings{}, &NoticePreference{}, &MailJob{}, &UsedLoginState{}, &AuditEntry{}, &Programme{}, &Call{},
		&Criterion{}, &RequiredDocument{}, &StoredFile{}, &Application{}, &ConsortiumMember{},
		&ApplicationDocument{}, &ReviewAssignment{}, &Score{}, &Decision{}, &DecisionEntry{},
		&ExtraHoliday{}, &Appeal{}, &AppealEvidence{}, &NamingGrant{},
		&Cluster{}, &GPU{}, &Allocation{}, &AllocationGPU{}, &GPURollup{}, &GPURollupDay{}, &ClusterLease{},
		&BuiltinHolidayRecord{}, &HolidayList{}, &HolidayListDay{}, &SavedForm{}, &AuditCheckpoint{}, &DataVersion{},
		&GPUConflict{},
		&ClusterEndpoint{}, &PollFailure{}, &PollHour{},
		&Downtime{},
		&AllocationChange{},
		&GPUWorkloadHour{},
		&UsageReport{}, &UsageReportEvent{}, &UsageSettings{}, &VerificationResult{},
		&InvoiceLine{}, &InvoiceLineEvent{},
		&ConsortiumRequest{},
		&Agreement{}, &AgreementVersion{}, &AgreementParty{}, &AgreementBudget{},
		&AgreementSignature{}, &AgreementSigner{}, &AgreementNotice{},
		&DataSurvey{}, &DataDemand{}, &DataSource{}, &DataPurchase{}, &DataDelivery{},
		&DatasetProject{}, &TalentLine{}, &FollowUp{},
		&Stage{}, &StageCriterion{}, &StageRevision{}, &StageOpinion{}, &StageReport{}, &StageReportFile{},
		&StageEvaluator{}, &StageDeclaration{}, &StageScore{}, &StageResult{},
	}
}

// immutable makes the database refuse updates and deletes of published rows.
func immutable(tx *gorm.DB, tables ...string) error {
	for _, t := range tables {
		var stmts []string
		switch tx.Dialector.Name() {
		case "sqlite":
			stmts = []string{
				`CREATE TRIGGER ` + t + `_no_update BEFORE UPDATE ON ` + t + ` BEGIN SELECT RAISE(ABORT, '` + t + ` are immutable once published'); END`,
				`CREATE TRIGGER ` + t + `_no_delete BEFORE DELETE ON ` + t + ` BEGIN SELECT RAISE(ABORT, '` + t + ` are immutable once published'); END`,
			}
		case "postgres":
			stmts = []string{
				`CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger AS $$
				 BEGIN RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql`,
				`CREATE TRIGGER ` + t + `_no_change BEFORE UPDATE OR DELETE ON ` + t + ` FOR EACH ROW EXECUTE FUNCTION refuse_change()`,
				`CREATE TRIGGER ` + t + `_no_truncate BEFORE TRUNCATE ON ` + t + ` FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()`,
			}
		}
		for _, s := range stmts {
			if err := tx.Exec(s).Error; err != nil {
				return err
			}
		}
	}
	return nil
}

// appendOnlyAudit makes the database itself refuse updates and deletes of
// audit rows, so the application cannot rewrite history by mistake.
func appendOnlyAudit(tx *gorm.DB) error {
	var stmts []string
	switch tx.Dialector.Name() {
	case "sqlite":
		stmts = []string{
			`CREATE TRIGGER audit_entries_no_update BEFORE UPDATE ON audit_entries
			 BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END`,
			`CREATE TRIGGER audit_entries_no_delete BEFORE DELETE ON audit_entries
			 BEGIN SELECT RAISE(ABORT, 'audit trail is append-only'); END`,
		}
	case "postgres":
		stmts = []string{
			`CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger AS $$
			 BEGIN RAISE EXCEPTION 'audit trail is append-only'; END; $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER audit_entries_no_change BEFORE UPDATE OR DELETE ON audit_entries
			 FOR EACH ROW EXECUTE FUNCTION audit_entries_append_only()`,
			// Row triggers do not fire on TRUNCATE, which would empty the trail in one statement.
			`CREATE TRIGGER audit_entries_no_truncate BEFORE TRUNCATE ON audit_entries
			 FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()`,
		}
	}
	for _, s := range stmts {
		if err := tx.Exec(s).Error; err != nil {
			return err
		}
	}
	return nil
}

// Migrate brings the schema up to date. On PostgreSQL it holds an advisory
// lock on one connection for the whole run, so concurrent starts are safe.
func Migrate(ctx context.Context, db *gorm.DB) error {
	db = db.WithContext(ctx)
	run := func(tx *gorm.DB) error {
		m := gormigrate.New(tx, &gormigrate.Options{
			TableName:                 "schema_migrations",
			IDColumnName:              "id",
			IDColumnSize:              255,
			UseTransaction:            true,
			ValidateUnknownMigrations: true,
		}, migrations())
		return m.Migrate()
	}
	if db.Dialector.Name() != "postgres" {
		if err := run(db); err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		return nil
	}
	err := db.Connection(func(conn *gorm.DB) error {
		if err := conn.Exec("SELECT pg_advisory_lock"+schemaLockKey, migrateLockKey).Error; err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		defer conn.Exec("SELECT pg_advisory_unlock"+schemaLockKey, migrateLockKey)
		return run(conn)
	})
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// PendingMigrations reports how many migrations have not been applied.
func PendingMigrations(ctx context.Context, db *gorm.DB) (int, error) {
	var applied []string
	if !db.Migrator().HasTable("schema_migrations") {
		return len(migrations()), nil
	}
	if err := db.WithContext(ctx).Table("schema_migrations").Pluck("id", &applied).Error; err != nil {
		return 0, fmt.Errorf("store: read migrations: %w", err)
	}
	done := map[string]bool{}
	for _, id := range applied {
		done[id] = true
	}
	n := 0
	for _, m := range migrations() {
		if !done[m.ID] {
			n++
		}
	}
	return n, nil
}
