package state

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/dsr"
)

// SelfStore keeps end-user self-service requests: the request row in
// StatusVerifying, its hashed code and its outbox address (in
// lethe_self_requests), download links and rate limits. The policy (how a
// code is hashed, what a notice says) is the caller's: pkg/selfservice.
type SelfStore struct {
	DB       *DB
	Audit    *AuditLog
	Requests *RequestService
	// Enqueue queues a verified request inside the transaction that
	// verifies it (the same function as RequestService.Enqueue).
	Enqueue func(ctx context.Context, tx *sql.Tx, id string) error
}

// selfRow is a row of lethe_self_requests.
type selfRow struct {
	RequestID     string `gorm:"primaryKey"`
	Email         *string
	CodeHash      *string
	CodeExpiresAt time.Time
	Attempts      int
	CreatedAt     time.Time `gorm:"autoCreateTime:false"`
	VerifiedAt    *time.Time
	Language      string // the tag of the language the person asked in, "" for none
}

func (selfRow) TableName() string { return "lethe_self_requests" }

// selfActor names the end user in the audit trail: proven only by the code.
const selfActor = "self"

// Create stores req (its ID, Type, Tenant, Email and Subject set by the
// caller) in StatusVerifying with the code's hash, valid until expires,
// and audits it, in one transaction, with the tag of the language the
// person asked in (lang, "" for none). It returns the stored request. An
// earlier request of the same address still waiting for its code is left
// alone: anyone can ask for any address, so a newer request cancelling
// it would let a stranger cancel its owner's code; each code opens its
// own request only, and the unused one expires.
func (s *SelfStore) Create(ctx context.Context, req *dsr.Request, codeHash string, expires time.Time, lang string) (*dsr.Request, error) {
	now := s.DB.now()
	email := req.Email
	row := &requestRow{ID: req.ID, Type: string(req.Type), Status: string(dsr.StatusVerifying), Tenant: req.Tenant,
		Email: &email, Subject: string(req.Subject), CreatedAt: now, UpdatedAt: now, DueAt: now.Add(dsr.ResponseWindow)}
	if s.Requests != nil && s.Requests.Subject != nil {
		row.SubjectKey = strPtr(s.Requests.Subject.KeyID())
	}
	self := &selfRow{RequestID: req.ID, Email: &email, CodeHash: &codeHash, CodeExpiresAt: utcMicro(expires), CreatedAt: now, Language: lang}
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(row).Error; err != nil {
			return err
		}
		if err := tx.Create(self).Error; err != nil {
			return err
		}
		_, err := s.Audit.appendTx(tx, now, dsr.AuditEvent{Actor: selfActor, Action: "request.created", RequestID: row.ID,
			Tenant: row.Tenant, Subject: req.Subject, Details: map[string]any{"type": req.Type, "self_service": true}})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("self-service: create request: %w", err)
	}
	return row.toDomain(), nil
}

// end moves r to a terminal status without running it, forgets its email,
// its code and its outbox address, and audits the change.
func (s *SelfStore) end(tx *gorm.DB, r *requestRow, st dsr.Status, code, msg string, now time.Time) error {
	res := tx.Model(&requestRow{}).Where("id = ?", r.ID).Updates(map[string]any{"status": string(st), "email": nil,
		"updated_at": now, "finished_at": now, "error_code": code, "error_message": msg})
	if res.Error != nil {
		return res.Error
	}
	if err := tx.Model(&selfRow{}).Where("request_id = ?", r.ID).
		Updates(map[string]any{"email": nil, "code_hash": nil}).Error; err != nil {
		return err
	}
	if err := forgetKeys(tx, r.ID); err != nil {
		return err
	}
	r.Status, r.Email, r.FinishedAt, r.ErrorCode, r.ErrorMessage = string(st), nil, &now, &code, &msg
	_, err := s.Audit.appendTx(tx, now, dsr.AuditEvent{Actor: selfActor, Action: "request." + string(st), RequestID: r.ID,
		Tenant: r.Tenant, Subject: dsr.Subject(r.Subject), Details: map[string]any{"type": r.Type, "error": dsr.Error{Code: code, Message: msg}}})
	return err
}

// Verify checks a code for request id: matches reports whether the code
// the person sent has the stored hash. A match makes the request pending
// and queues it in the same transaction. Errors, as dsr.SelfService.Verify
// states them: ENOTFOUND, ECONFLICT, EGONE, EUNPROCESSABLE with the attempts
// left, and EFORBIDDEN for the last wrong code, which denies the request.
// A wrong attempt is stored even though an error is returned.
func (s *SelfStore) Verify(ctx context.Context, id string, matches func(codeHash string) bool) (*dsr.Request, error) {
	review, err := s.review(ctx, id, matches)
	if err != nil {
		return nil, fmt.Errorf("self-service: verify: %w", err)
	}
	var out *dsr.Request
	var refusal error
	err = s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		row, err := s.Requests.load(ctx, s.DB.lock(tx), id)
		if err != nil {
			return err
		}
		var self selfRow
		err = tx.Where("request_id = ?", id).Take(&self).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return dsr.Errorf(dsr.ENOTFOUND, "request %s not found", id)
		} else if err != nil {
			return err
		}
		now := s.DB.now()
		switch {
		case row.Status != string(dsr.StatusVerifying) || self.CodeHash == nil:
			return dsr.Errorf(dsr.ECONFLICT, "request %s is %s: it no longer waits for a code", id, row.Status)
		case !now.Before(self.CodeExpiresAt):
			return dsr.Errorf(dsr.EGONE, "code: expired after %d minutes; ask again for a new code", int(dsr.CodeTTL/time.Minute))
		case matches(*self.CodeHash):
			return s.verified(ctx, tx, row, now, review, &out)
		}
		self.Attempts++
		if self.Attempts >= dsr.MaxCodeAttempts {
			msg := fmt.Sprintf("locked after %d wrong codes: ask again for a new code", dsr.MaxCodeAttempts)
			refusal = &dsr.WrongCodeError{Coded: dsr.Errorf(dsr.EFORBIDDEN, "code: wrong; this request is now %s", msg)}
			return s.end(tx, row, dsr.StatusDenied, dsr.EFORBIDDEN, msg, now)
		}
		left := dsr.MaxCodeAttempts - self.Attempts
		refusal = &dsr.WrongCodeError{Coded: dsr.Errorf(dsr.EUNPROCESSABLE, "code: wrong; %d attempt(s) left", left), Left: left}
		return tx.Model(&selfRow{}).Where("request_id = ?", id).Update("attempts", self.Attempts).Error
	})
	if err != nil {
		if dsr.ErrorCode(err) != dsr.EINTERNAL {
			return nil, err
		}
		return nil, fmt.Errorf("self-service: verify: %w", err)
	}
	return out, refusal
}

// review asks the review gate about request id before the transaction
// that verifies it, when the code matches: the gate reads the studio's
// settings and plans in the application's stores, which must not wait on
// the transaction's lock (SQLite has one writer). nil when the gate does
// not hold the request, or the code does not match (the transaction then
// refuses it).
func (s *SelfStore) review(ctx context.Context, id string, matches func(codeHash string) bool) (*dsr.Review, error) {
	if s.Requests.Gate == nil {
		return nil, nil
	}
	var self selfRow
	err := s.DB.Gorm.WithContext(ctx).Where("request_id = ?", id).Take(&self).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && (self.CodeHash == nil || !matches(*self.CodeHash))) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	row, err := s.Requests.load(ctx, s.DB.Gorm, id)
	if err != nil || row.Email == nil {
		return nil, nil // the transaction answers for it
	}
	return s.Requests.Gate.Hold(ctx, dsr.Type(row.Type), *row.Email, row.Tenant)
}

// verified makes row pending, forgets its code, queues it and audits it;
// a request the review gate holds (review not nil) waits with its plan
// instead of being queued.
func (s *SelfStore) verified(ctx context.Context, tx *gorm.DB, row *requestRow, now time.Time, review *dsr.Review, out **dsr.Request) error {
	row.Status, row.UpdatedAt = string(dsr.StatusPending), now
	held := review != nil
	if held {
		row.held(review)
	}
	if err := tx.Model(&requestRow{}).Where("id = ?", row.ID).
		Updates(map[string]any{"status": row.Status, "updated_at": now, "plan": row.Plan}).Error; err != nil {
		return err
	}
	if err := tx.Model(&selfRow{}).Where("request_id = ?", row.ID).
		Updates(map[string]any{"code_hash": nil, "verified_at": now}).Error; err != nil {
		return err
	}
	details := map[string]any{"type": row.Type}
	if held {
		details["awaiting_approval"] = true
	}
	if _, err := s.Audit.appendTx(tx, now, dsr.AuditEvent{Actor: selfActor, Action: "request.verified", RequestID: row.ID,
		Tenant: row.Tenant, Subject: dsr.Subject(row.Subject), Details: details}); err != nil {
		return err
	}
	*out = row.toDomain()
	if held {
		return nil // queued once approved
	}
	sqlTx, err := SQLTx(tx)
	if err != nil {
		return err
	}
	return s.Enqueue(ctx, sqlTx, row.ID)
}

// Load returns request id without a tenant check, or ENOTFOUND.
func (s *SelfStore) Load(ctx context.Context, id string) (*dsr.Request, error) {
	row, err := s.Requests.load(ctx, s.DB.Gorm, id)
	if err != nil {
		return nil, err
	}
	return row.toDomain(), nil
}

// ExpireUnverified cancels up to limit requests whose code expired by
// before (inclusive) unverified, forgetting their addresses, and returns
// how many it cancelled. It also forgets the address of every unverified
// request that ended otherwise (cancelled by its owner).
func (s *SelfStore) ExpireUnverified(ctx context.Context, before time.Time, limit int) (int, error) {
	n := 0
	err := s.DB.Gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var rows []requestRow
		err := s.DB.lock(tx).Where("status = ? AND id IN (SELECT request_id FROM lethe_self_requests WHERE code_expires_at <= ?)",
			string(dsr.StatusVerifying), utcMicro(before)).Order("id").Limit(limit).Find(&rows).Error
		if err != nil {
			return err
		}
		now := s.DB.now()
		for i := range rows {
			if err := s.end(tx, &rows[i], dsr.StatusCancelled, dsr.EGONE, "never verified: the code expired", now); err != nil {
				return err
			}
		}
		n = len(rows)
		// Requests cancelled by their owner before the code came back:
		// no notice is due, so their addresses go too.
		return tx.Model(&selfRow{}).Where("verified_at IS NULL AND email IS NOT NULL AND request_id IN (SELECT id FROM lethe_requests WHERE status IN ?)",
			[]string{string(dsr.StatusCancelled), string(dsr.StatusDenied), string(dsr.StatusFailed), string(dsr.StatusCompleted)}).
			Updates(map[string]any{"email": nil, "code_hash": nil}).Error
	})
	if err != nil {
		return 0, fmt.Errorf("self-service: expire unverified requests: %w", err)
	}
	return n, nil
}
