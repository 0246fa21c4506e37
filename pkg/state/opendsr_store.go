package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/opendsr"
)

// OpenDSRStore implements opendsr.Store on lethe_opendsr_requests.
type OpenDSRStore struct {
	DB *DB
}

var _ opendsr.Store = (*OpenDSRStore)(nil)

// opendsrRow is a row of lethe_opendsr_requests.
type opendsrRow struct {
	SubjectRequestID string `gorm:"primaryKey"`
	RequestID        *string
	Tenant           string
	ControllerID     string
	Type             string
	Regulation       string
	Legacy           bool
	CallbackURLs     string `gorm:"column:callback_urls"`
	ReceivedAt       time.Time
	ExpectedAt       time.Time
	NotifiedStatus   string
}

func (opendsrRow) TableName() string { return "lethe_opendsr_requests" }

func (r *opendsrRow) toDomain() (*opendsr.Record, error) {
	rec := &opendsr.Record{SubjectRequestID: r.SubjectRequestID, Tenant: r.Tenant, ControllerID: r.ControllerID,
		Type: r.Type, Regulation: r.Regulation, Legacy: r.Legacy, ReceivedAt: r.ReceivedAt.UTC(),
		ExpectedAt: r.ExpectedAt.UTC(), Notified: dsr.Status(r.NotifiedStatus)}
	if r.RequestID != nil {
		rec.RequestID = *r.RequestID
	}
	if err := json.Unmarshal([]byte(r.CallbackURLs), &rec.CallbackURLs); err != nil {
		return nil, fmt.Errorf("opendsr request %s: callback_urls: %w", r.SubjectRequestID, err)
	}
	return rec, nil
}

// Insert implements opendsr.Store.
func (s *OpenDSRStore) Insert(ctx context.Context, r *opendsr.Record) (*opendsr.Record, bool, error) {
	urls, err := json.Marshal(append([]string{}, r.CallbackURLs...))
	if err != nil {
		return nil, false, fmt.Errorf("opendsr request: %w", err)
	}
	row := &opendsrRow{SubjectRequestID: r.SubjectRequestID, RequestID: strPtr(r.RequestID), Tenant: r.Tenant,
		ControllerID: r.ControllerID, Type: r.Type, Regulation: r.Regulation, Legacy: r.Legacy,
		CallbackURLs: string(urls), ReceivedAt: r.ReceivedAt.UTC(), ExpectedAt: r.ExpectedAt.UTC()}
	res := s.DB.Gorm.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(row)
	if res.Error != nil {
		return nil, false, fmt.Errorf("store opendsr request: %w", res.Error)
	}
	if res.RowsAffected == 1 {
		return r, true, nil
	}
	prev, err := s.Get(ctx, r.SubjectRequestID)
	return prev, false, err
}

// Get implements opendsr.Store.
func (s *OpenDSRStore) Get(ctx context.Context, id string) (*opendsr.Record, error) {
	var row opendsrRow
	err := s.DB.Gorm.WithContext(ctx).Where("subject_request_id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, dsr.Errorf(dsr.ENOTFOUND, "no request with this subject_request_id")
	} else if err != nil {
		return nil, fmt.Errorf("load opendsr request: %w", err)
	}
	return row.toDomain()
}

// opendsrChangeRow is a row of the scan in Changes: a record and its
// request's status. Flat, as gorm's Raw scan maps no embedded struct.
type opendsrChangeRow struct {
	SubjectRequestID string
	RequestID        *string
	Tenant           string
	ControllerID     string
	Type             string
	Regulation       string
	Legacy           bool
	CallbackURLs     string `gorm:"column:callback_urls"`
	ReceivedAt       time.Time
	ExpectedAt       time.Time
	NotifiedStatus   string
	RequestStatus    *string
	RequestStartedAt *time.Time
}

// Changes implements opendsr.Store. Records whose notified status is
// terminal never change again and are left out through the index on
// notified_status; a record without a request counts as completed.
func (s *OpenDSRStore) Changes(ctx context.Context, limit int) ([]opendsr.Change, error) {
	var rows []opendsrChangeRow
	err := s.DB.Gorm.WithContext(ctx).Raw(`SELECT o.*, r.status AS request_status, r.started_at AS request_started_at
		FROM lethe_opendsr_requests o LEFT JOIN lethe_requests r ON r.id = o.request_id
		WHERE o.notified_status NOT IN ('completed', 'failed', 'cancelled', 'denied')
		  AND o.notified_status <> COALESCE(r.status, 'completed')
		ORDER BY o.received_at LIMIT ?`, limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("scan opendsr requests: %w", err)
	}
	out := make([]opendsr.Change, 0, len(rows))
	for _, r := range rows {
		row := opendsrRow{SubjectRequestID: r.SubjectRequestID, RequestID: r.RequestID, Tenant: r.Tenant,
			ControllerID: r.ControllerID, Type: r.Type, Regulation: r.Regulation, Legacy: r.Legacy,
			CallbackURLs: r.CallbackURLs, ReceivedAt: r.ReceivedAt, ExpectedAt: r.ExpectedAt, NotifiedStatus: r.NotifiedStatus}
		rec, err := row.toDomain()
		if err != nil {
			return nil, err
		}
		ch := opendsr.Change{Record: rec, Status: dsr.StatusCompleted, Started: r.RequestStartedAt != nil}
		if r.RequestStatus != nil {
			ch.Status = dsr.Status(*r.RequestStatus)
		}
		out = append(out, ch)
	}
	return out, nil
}

// Advance implements opendsr.Store.
func (s *OpenDSRStore) Advance(ctx context.Context, id string, from, to dsr.Status, enqueue opendsr.Enqueuer) error {
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec(`UPDATE lethe_opendsr_requests SET notified_status = ?
			WHERE subject_request_id = ? AND notified_status = ?`, string(to), id, string(from))
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		sqlTx, err := SQLTx(tx)
		if err != nil {
			return err
		}
		return enqueue(ctx, sqlTx)
	})
	if err != nil {
		return fmt.Errorf("advance opendsr request %s: %w", id, err)
	}
	return nil
}
