package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/dsr"
)

// RequestService implements dsr.RequestService on the state store.
type RequestService struct {
	DB      *DB
	Subject *dsr.SubjectHasher
	Audit   *AuditLog
	// Enqueue queues request id for execution inside tx, so that a request
	// is never stored without its job nor queued without its row.
	Enqueue func(ctx context.Context, tx *sql.Tx, id string) error
	// Gate holds the requests that need an owner's approval, with their
	// plan, in StatusAwaitingApproval instead of queueing them; nil
	// holds none.
	Gate *dsr.Gate
	// Identities normalises the identities other than email a request may
	// be filed with (the registry); nil accepts email only.
	Identities dsr.IdentityNormalizer
}

var _ dsr.RequestService = (*RequestService)(nil)

// Create implements dsr.RequestService.
func (s *RequestService) Create(ctx context.Context, c dsr.Caller, in dsr.NewRequest) (*dsr.Request, bool, error) {
	if !in.Type.Valid() {
		return nil, false, dsr.Errorf(dsr.EUNPROCESSABLE, `type: must be "access" or "erasure"`)
	}
	email, others, err := s.identities(in)
	if err != nil {
		return nil, false, err
	}
	tenant := in.Tenant
	switch {
	case !c.Admin && c.Tenant == "":
		return nil, false, dsr.Errorf(dsr.EUNAUTHORIZED, "a bearer token is required")
	case !c.Admin && tenant != "" && tenant != c.Tenant:
		return nil, false, dsr.Errorf(dsr.EFORBIDDEN, "tenant: a tenant key may file requests for its own tenant only")
	case !c.Admin:
		tenant = c.Tenant
	}
	if tenant != "" {
		if err := dsr.ValidateTenant(tenant); err != nil {
			return nil, false, err
		}
	}
	if len(in.IdempotencyKey) > 200 {
		return nil, false, dsr.Errorf(dsr.EINVALID, "Idempotency-Key: at most 200 characters")
	}
	now := s.DB.now()
	subject := s.Subject.SubjectOf(withEmail(others, email))
	row := &requestRow{
		ID: uuid.Must(uuid.NewV7()).String(), Type: string(in.Type), Status: string(dsr.StatusPending),
		Tenant: tenant, Email: strPtr(email), Identities: jsonPtr(others), Subject: string(subject),
		CreatedAt: now, UpdatedAt: now, DueAt: now.Add(dsr.ResponseWindow), Source: in.Source,
		SubjectKey: strPtr(s.Subject.KeyID()),
	}
	if in.IdempotencyKey != "" {
		// Keyed, not a bare SHA-256: the hash outlives the email column, and
		// a bare hash of an address is reversed by hashing guesses.
		row.idemData = []byte(string(in.Type) + "\x00" + email + "\x00" + tenant + idemIdentities(others))
		sum := s.Subject.Sign("idempotency", row.idemData)
		row.IdemScope, row.IdemKey, row.IdemHash = strPtr(idemScope(c)), &in.IdempotencyKey, strPtr(sum)
		if prev, err := s.byIdempotencyKey(ctx, row); prev != nil || err != nil {
			return prev, false, err
		}
	}
	held, err := s.hold(ctx, row)
	if err != nil {
		return nil, false, err
	}
	details := createdDetails(in)
	if held {
		details["awaiting_approval"] = true
	}
	created := dsr.AuditEvent{Actor: c.Actor(), Action: "request.created",
		RequestID: row.ID, Tenant: tenant, Subject: subject, Details: details}
	err = s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.DB.Dialect == Postgres {
			// The request and its audit entry in one round trip, then its
			// job, which the queue inserts with the row already there.
			if err := s.Audit.insertAudited(tx, now, row, created); err != nil {
				return err
			}
			return s.enqueueTx(ctx, tx, row, held)
		}
		if err := tx.Create(row).Error; err != nil {
			return err
		}
		if err := s.enqueueTx(ctx, tx, row, held); err != nil {
			return err
		}
		// Last, so that the audit chain's head, which every replica's
		// appends wait for, is held for no more than the commit.
		_, err := s.Audit.appendTx(tx, now, created)
		return err
	})
	if err != nil && in.IdempotencyKey != "" && isUniqueViolation(err) {
		// A concurrent call with the same key won the race.
		prev, perr := s.byIdempotencyKey(ctx, row)
		if prev != nil || perr != nil {
			return prev, false, perr
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("create request: %w", err)
	}
	return row.toDomain(), true, nil
}

// enqueueTx queues row's job inside tx, unless row is held for approval
// (queued once approved).
func (s *RequestService) enqueueTx(ctx context.Context, tx *gorm.DB, row *requestRow, held bool) error {
	if held {
		return nil
	}
	sqlTx, err := SQLTx(tx)
	if err != nil {
		return err
	}
	return s.Enqueue(ctx, sqlTx, row.ID)
}

func idemScope(c dsr.Caller) string {
	if c.Admin {
		return "admin"
	}
	return "tenant:" + c.Tenant
}

// byIdempotencyKey returns the request stored under want's key, nil when
// there is none, and ECONFLICT when the key was used for another body.
func (s *RequestService) byIdempotencyKey(ctx context.Context, want *requestRow) (*dsr.Request, error) {
	var prev requestRow
	err := s.DB.Gorm.WithContext(ctx).Where("idem_scope = ? AND idem_key = ?", *want.IdemScope, *want.IdemKey).Take(&prev).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("look up idempotency key: %w", err)
	}
	if prev.IdemHash == nil || (*prev.IdemHash != *want.IdemHash && !s.Subject.Signed("idempotency", want.idemData, *prev.IdemHash)) {
		return nil, dsr.Errorf(dsr.ECONFLICT, "Idempotency-Key: already used for a different request; use a new key")
	}
	return prev.toDomain(), nil
}

func isUniqueViolation(err error) bool {
	s := err.Error()
	return strings.Contains(s, "23505") || strings.Contains(s, "UNIQUE constraint failed") || errors.Is(err, gorm.ErrDuplicatedKey)
}

// Get implements dsr.RequestService.
func (s *RequestService) Get(ctx context.Context, c dsr.Caller, id string) (*dsr.Request, error) {
	row, err := s.load(ctx, s.DB.Gorm, id)
	if err != nil {
		return nil, err
	}
	if !c.CanSee(row.Tenant) {
		return nil, dsr.Errorf(dsr.ENOTFOUND, "request %s not found", id)
	}
	return row.toDomain(), nil
}

// checkRequestID is ENOTFOUND for an id that is no request id (a UUID),
// which no query need look up (Postgres would refuse it as a uuid).
func checkRequestID(id string) error {
	if _, err := uuid.Parse(id); err != nil {
		return dsr.Errorf(dsr.ENOTFOUND, "request %q not found", id)
	}
	return nil
}

func (s *RequestService) load(ctx context.Context, db *gorm.DB, id string) (*requestRow, error) {
	var row requestRow
	if err := checkRequestID(id); err != nil {
		return nil, err
	}
	err := db.WithContext(ctx).Where("id = ?", id).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, dsr.Errorf(dsr.ENOTFOUND, "request %s not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("load request: %w", err)
	}
	return &row, nil
}

// List implements dsr.RequestService.
func (s *RequestService) List(ctx context.Context, c dsr.Caller, f dsr.RequestFilter) (*dsr.RequestPage, error) {
	if !c.Admin && c.Tenant == "" {
		return nil, dsr.Errorf(dsr.EUNAUTHORIZED, "a bearer token is required")
	}
	if f.Status != "" && !f.Status.Valid() {
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "status: unknown status %q", f.Status)
	}
	if f.Type != "" && !f.Type.Valid() {
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, `type: must be "access" or "erasure"`)
	}
	q := s.DB.Gorm.WithContext(ctx).Model(&requestRow{})
	switch {
	case !c.Admin && f.Tenant != "" && f.Tenant != c.Tenant:
		return &dsr.RequestPage{}, nil // another tenant's requests do not exist for this key
	case !c.Admin:
		q = q.Where("tenant = ?", c.Tenant)
	case f.Tenant != "":
		q = q.Where("tenant = ?", f.Tenant)
	}
	if f.Status != "" {
		q = q.Where("status = ?", string(f.Status))
	}
	if f.Type != "" {
		q = q.Where("type = ?", string(f.Type))
	}
	switch f.Source {
	case "":
	case dsr.SourceAPI:
		q = q.Where("source = ''")
	case dsr.SourceOpenDSR:
		q = q.Where("source = ?", f.Source)
	default:
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, `source: must be "api" or "opendsr"`)
	}
	if f.Overdue {
		q = q.Where("due_at < ? AND status IN ?", s.DB.now(), openStatuses())
	}
	rows, next, err := newestFirst(s.Subject, q, f.Cursor, f.Limit, "requests", func(r *requestRow) cursor {
		return cursor{CreatedAt: r.CreatedAt.UTC(), ID: r.ID}
	})
	if err != nil {
		return nil, err
	}
	page := &dsr.RequestPage{Items: make([]*dsr.Request, 0, len(rows)), NextCursor: next}
	for i := range rows {
		page.Items = append(page.Items, rows[i].toDomain())
	}
	return page, nil
}

func openStatuses() []string {
	var out []string
	for _, st := range dsr.Statuses {
		if !st.Terminal() {
			out = append(out, string(st))
		}
	}
	return out
}

// Cancel implements dsr.RequestService. The reason is kept as the
// request's error message, which the closing notice and the console show,
// and in the audit entry.
func (s *RequestService) Cancel(ctx context.Context, c dsr.Caller, id, reason string) (*dsr.Request, error) {
	reason, err := dsr.CheckCancelReason(reason)
	if err != nil {
		return nil, err
	}
	return s.update(ctx, c, id, "request.cancelled", map[string]any{"reason": reason}, func(r *requestRow, now time.Time) error {
		if !dsr.Status(r.Status).Cancellable() {
			return dsr.Errorf(dsr.ECONFLICT, "request is %s; only a request that has not started running can be cancelled", r.Status)
		}
		r.Status, r.FinishedAt = string(dsr.StatusCancelled), &now
		r.ErrorCode, r.ErrorMessage = strPtr(dsr.ECONFLICT), strPtr(reason)
		r.Email, r.Identities = nil, nil // nothing more will be done for this person
		return nil
	})
}

// Extend implements dsr.RequestService.
func (s *RequestService) Extend(ctx context.Context, c dsr.Caller, id string, days int, reason string) (*dsr.Request, error) {
	reason = strings.TrimSpace(reason)
	if days <= 0 {
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "days: must be a whole number of days above 0")
	} else if reason == "" {
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "reason: required; say why the request needs more time (GDPR Art. 12(3))")
	} else if len(reason) > 1000 {
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "reason: at most 1000 characters")
	}
	maxDays := int(dsr.MaxExtension / (24 * time.Hour))
	details := map[string]any{"days": days}
	return s.update(ctx, c, id, "request.extended", details, func(r *requestRow, now time.Time) error {
		if dsr.Status(r.Status).Terminal() {
			return dsr.Errorf(dsr.ECONFLICT, "request is %s; only an open request can be extended", r.Status)
		}
		if days > maxDays-r.ExtendedDays { // not ExtendedDays+days, which overflows
			return dsr.Errorf(dsr.EUNPROCESSABLE, "days: the deadline can be extended by %d days in total; %d are left", maxDays, maxDays-r.ExtendedDays)
		}
		r.ExtendedDays += days
		r.DueAt = r.DueAt.Add(time.Duration(days) * 24 * time.Hour)
		r.ExtensionReason = reason
		return nil
	})
}

// update loads request id under a row lock, applies change, saves it and
// appends an audit entry, all in one transaction.
func (s *RequestService) update(ctx context.Context, c dsr.Caller, id, action string, details map[string]any,
	change func(r *requestRow, now time.Time) error) (*dsr.Request, error) {
	return s.updateThen(ctx, c, id, action, details, change, nil)
}

// updateThen is update, calling then (when not nil) inside the
// transaction once the row is saved.
func (s *RequestService) updateThen(ctx context.Context, c dsr.Caller, id, action string, details map[string]any,
	change func(r *requestRow, now time.Time) error, then func(tx *gorm.DB, r *requestRow) error) (*dsr.Request, error) {
	var out *dsr.Request
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := s.load(ctx, s.DB.lock(tx), id)
		if err != nil {
			return err
		}
		if !c.CanSee(row.Tenant) {
			return dsr.Errorf(dsr.ENOTFOUND, "request %s not found", id)
		}
		now := s.DB.now()
		if err := change(row, now); err != nil {
			return err
		}
		row.UpdatedAt = now
		if err := tx.Save(row).Error; err != nil {
			return err
		}
		if then != nil {
			if err := then(tx, row); err != nil {
				return err
			}
		}
		if dsr.Status(row.Status).Terminal() {
			if err := forgetKeys(tx, row.ID); err != nil {
				return err
			}
		}
		if _, err := s.Audit.appendTx(tx, now, dsr.AuditEvent{Actor: c.Actor(), Action: action, RequestID: row.ID,
			Tenant: row.Tenant, Subject: dsr.Subject(row.Subject), Details: details}); err != nil {
			return err
		}
		out = row.toDomain()
		return nil
	})
	return out, err
}

// createdDetails are the audit details of request.created: its type, and
// its source when it came in other than through the API.
func createdDetails(in dsr.NewRequest) map[string]any {
	d := map[string]any{"type": in.Type}
	if in.Source != "" {
		d["source"] = in.Source
	}
	return d
}
