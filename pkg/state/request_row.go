package state

import (
	"encoding/json"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
)

// requestRow is a row of lethe_requests.
type requestRow struct {
	ID               string `gorm:"primaryKey"`
	Type             string
	Status           string
	Tenant           string
	Email            *string
	Identities       *string // JSON object by type, cleared with Email
	Subject          string
	CreatedAt        time.Time `gorm:"autoCreateTime:false"`
	UpdatedAt        time.Time `gorm:"autoUpdateTime:false"`
	DueAt            time.Time
	ExtendedDays     int
	ExtensionReason  string
	StartedAt        *time.Time
	FinishedAt       *time.Time
	Attempts         int
	Counts           *string
	Verification     *string
	ErrorCode        *string
	ErrorMessage     *string
	IdemScope        *string
	IdemKey          *string
	IdemHash         *string
	RegistrySnapshot *string
	Source           string
	ProcessID        string
	Plan             *string
	ApprovedBy       *string
	ApprovedAt       *time.Time
	// SubjectKey is the KeyID of the subject key Subject was made with
	// (NULL for rows made before it was recorded).
	SubjectKey *string
	// idemData is what IdemHash signs, kept while filing to accept a hash
	// made with a previous subject key; not a column.
	idemData []byte `gorm:"-"`
}

func (requestRow) TableName() string { return "lethe_requests" }

// requestColumns are the columns of lethe_requests in the order of
// insertValues.
var requestColumns = []string{"id", "type", "status", "tenant", "email", "identities", "subject",
	"created_at", "updated_at", "due_at", "extended_days", "extension_reason", "started_at", "finished_at",
	"attempts", "counts", "verification", "error_code", "error_message", "idem_scope", "idem_key", "idem_hash",
	"registry_snapshot", "source", "process_id", "plan", "approved_by", "approved_at", "subject_key"}

// insertValues are r's values for requestColumns: a plain INSERT without
// gorm's reflection, which can join a statement doing other work.
func (r *requestRow) insertValues() []any {
	return []any{r.ID, r.Type, r.Status, r.Tenant, r.Email, r.Identities, r.Subject,
		r.CreatedAt, r.UpdatedAt, r.DueAt, r.ExtendedDays, r.ExtensionReason, r.StartedAt, r.FinishedAt,
		r.Attempts, r.Counts, r.Verification, r.ErrorCode, r.ErrorMessage, r.IdemScope, r.IdemKey, r.IdemHash,
		r.RegistrySnapshot, r.Source, r.ProcessID, r.Plan, r.ApprovedBy, r.ApprovedAt, r.SubjectKey}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// toDomain converts a row; JSON columns that fail to decode are left empty
// rather than failing a read of the request.
func (r *requestRow) toDomain() *dsr.Request {
	req := &dsr.Request{
		ID: r.ID, Type: dsr.Type(r.Type), Status: dsr.Status(r.Status), Tenant: r.Tenant,
		Subject: dsr.Subject(r.Subject), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		DueAt: r.DueAt.UTC(), ExtendedDays: r.ExtendedDays, ExtensionReason: r.ExtensionReason,
		StartedAt: utcPtr(r.StartedAt), FinishedAt: utcPtr(r.FinishedAt), Attempts: r.Attempts,
		Source: r.Source,
	}
	if r.Email != nil {
		req.Email = *r.Email
	}
	if r.Identities != nil {
		_ = json.Unmarshal([]byte(*r.Identities), &req.Identities)
	}
	if r.Counts != nil {
		_ = json.Unmarshal([]byte(*r.Counts), &req.Counts)
	}
	if r.Verification != nil {
		req.Verification = &dsr.Verification{}
		if json.Unmarshal([]byte(*r.Verification), req.Verification) != nil {
			req.Verification = nil
		}
	}
	if r.Plan != nil {
		req.Review = &dsr.Review{Plan: json.RawMessage(*r.Plan), ApprovedAt: utcPtr(r.ApprovedAt)}
		if r.ApprovedBy != nil {
			req.Review.ApprovedBy = *r.ApprovedBy
		}
	}
	if r.ErrorCode != nil {
		req.Err = &dsr.Error{Code: *r.ErrorCode}
		if r.ErrorMessage != nil {
			req.Err.Message = *r.ErrorMessage
		}
	}
	return req
}

func jsonPtr(v any) *string {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return nil
	}
	s := string(b)
	return &s
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
