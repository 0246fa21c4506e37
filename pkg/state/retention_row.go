package state

import (
	"encoding/json"
	"time"

	"gorm.io/gorm/clause"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/retention"
)

// retentionRunRow is a row of lethe_retention_runs.
type retentionRunRow struct {
	ID              string `gorm:"primaryKey"`
	Status          string
	Kind            string
	DryRun          bool
	Trigger         string
	Actor           string
	AsOf            time.Time
	CreatedAt       time.Time `gorm:"autoCreateTime:false"`
	StartedAt       *time.Time
	FinishedAt      *time.Time
	HeartbeatAt     *time.Time
	Resumes         string
	ResumedBy       string
	Counts          string
	Cursor          string
	ErrorCode       *string
	ErrorMessage    *string
	RegistryVersion string
	ProcessID       string
}

func (retentionRunRow) TableName() string { return "lethe_retention_runs" }

// retentionFileRow is a row of lethe_retention_files: a file of a purged
// row, pending until deleted from its blob store.
type retentionFileRow struct {
	RunID      string `gorm:"primaryKey"`
	Store      string `gorm:"primaryKey"`
	Key        string `gorm:"primaryKey"`
	Collection string
	Status     string
}

func (retentionFileRow) TableName() string { return "lethe_retention_files" }

// File statuses.
const (
	filePending = "pending"
	fileDeleted = "deleted"
)

// toDomain converts a row; JSON columns that fail to decode are left empty.
func (r *retentionRunRow) toDomain() *retention.Run {
	run := &retention.Run{ID: r.ID, Status: retention.Status(r.Status), Kind: r.Kind, DryRun: r.DryRun, Trigger: r.Trigger,
		Actor: r.Actor, AsOf: r.AsOf.UTC(), CreatedAt: r.CreatedAt.UTC(), StartedAt: utcPtr(r.StartedAt),
		FinishedAt: utcPtr(r.FinishedAt), HeartbeatAt: utcPtr(r.HeartbeatAt), Resumes: r.Resumes,
		RegistryVersion: r.RegistryVersion, Counts: []retention.Count{}}
	_ = json.Unmarshal([]byte(r.Counts), &run.Counts)
	_ = json.Unmarshal([]byte(r.Cursor), &run.Cursor)
	if run.Kind == "" {
		run.Kind = retention.KindRetention
	}
	if run.Counts == nil {
		run.Counts = []retention.Count{}
	}
	if r.ErrorCode != nil {
		run.Err = &dsr.Error{Code: *r.ErrorCode}
		if r.ErrorMessage != nil {
			run.Err.Message = *r.ErrorMessage
		}
	}
	return run
}

func encodeJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

func onConflictDoNothing() clause.OnConflict { return clause.OnConflict{DoNothing: true} }
