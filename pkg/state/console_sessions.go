package state

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/lethe-privacy/lethe/dsr"
)

// ConsoleSessions keeps the console's one-time sign-in links and its
// sessions (lethe_console_links, lethe_console_sessions), both by the
// keyed hash of their token. The policy (timeouts, who may sign in) is
// pkg/console's; times are the caller's, so that it decides expiry.
type ConsoleSessions struct {
	DB *DB
}

// consoleSessionRow is a row of lethe_console_sessions.
type consoleSessionRow struct {
	TokenHash  string `gorm:"primaryKey"`
	Tenant     string
	Actor      string
	CreatedAt  time.Time `gorm:"autoCreateTime:false"`
	LastSeenAt time.Time
	ExpiresAt  time.Time
	RevokedAt  *time.Time
}

func (consoleSessionRow) TableName() string { return "lethe_console_sessions" }

// SaveLink stores a sign-in link of owner for tenant, valid until expires.
func (s *ConsoleSessions) SaveLink(ctx context.Context, tokenHash string, l dsr.ConsoleLink, now, expires time.Time) error {
	err := s.DB.Gorm.WithContext(ctx).Exec(`INSERT INTO lethe_console_links (token_hash, tenant, owner, created_at, expires_at)
VALUES (?, ?, ?, ?, ?)`, tokenHash, l.Tenant, string(l.Owner), utcMicro(now), utcMicro(expires)).Error
	if err != nil {
		return fmt.Errorf("console: save sign-in link: %w", err)
	}
	return nil
}

// UseLink spends the link of tokenHash at now and returns whom it signs
// in. One statement marks it used, so that two clicks cannot both spend
// it. ENOTFOUND for a link never issued, already used or expired: the
// three look alike to whoever holds the link.
func (s *ConsoleSessions) UseLink(ctx context.Context, tokenHash string, now time.Time) (*dsr.ConsoleLink, error) {
	var out struct {
		Tenant string
		Owner  string
	}
	res := s.DB.Gorm.WithContext(ctx).Raw(`UPDATE lethe_console_links SET used_at = ?
WHERE token_hash = ? AND used_at IS NULL AND expires_at > ?
RETURNING tenant, owner`, utcMicro(now), tokenHash, utcMicro(now)).Scan(&out)
	if res.Error != nil {
		return nil, fmt.Errorf("console: use sign-in link: %w", res.Error)
	}
	if out.Tenant == "" {
		return nil, dsr.Errorf(dsr.ENOTFOUND, "this sign-in link is not valid any more: links work once, for 15 minutes; ask for a new one")
	}
	return &dsr.ConsoleLink{Tenant: out.Tenant, Owner: dsr.Subject(out.Owner)}, nil
}

// OpenSession stores a new session.
func (s *ConsoleSessions) OpenSession(ctx context.Context, in *dsr.ConsoleSession) error {
	row := &consoleSessionRow{TokenHash: in.TokenHash, Tenant: in.Tenant, Actor: in.Actor, CreatedAt: utcMicro(in.CreatedAt),
		LastSeenAt: utcMicro(in.LastSeenAt), ExpiresAt: utcMicro(in.ExpiresAt)}
	if err := s.DB.Gorm.WithContext(ctx).Create(row).Error; err != nil {
		return fmt.Errorf("console: open session: %w", err)
	}
	return nil
}

// Session returns the session of tokenHash, revoked or not; ENOTFOUND.
func (s *ConsoleSessions) Session(ctx context.Context, tokenHash string) (*dsr.ConsoleSession, error) {
	var row consoleSessionRow
	err := s.DB.Gorm.WithContext(ctx).Where("token_hash = ?", tokenHash).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, dsr.Errorf(dsr.ENOTFOUND, "no such session")
	} else if err != nil {
		return nil, fmt.Errorf("console: read session: %w", err)
	}
	return &dsr.ConsoleSession{TokenHash: row.TokenHash, Tenant: row.Tenant, Actor: row.Actor, CreatedAt: row.CreatedAt.UTC(),
		LastSeenAt: row.LastSeenAt.UTC(), ExpiresAt: row.ExpiresAt.UTC(), RevokedAt: utcPtr(row.RevokedAt)}, nil
}

// Touch records activity of the session of tokenHash at now.
func (s *ConsoleSessions) Touch(ctx context.Context, tokenHash string, now time.Time) error {
	err := s.DB.Gorm.WithContext(ctx).Exec("UPDATE lethe_console_sessions SET last_seen_at = ? WHERE token_hash = ?",
		utcMicro(now), tokenHash).Error
	if err != nil {
		return fmt.Errorf("console: touch session: %w", err)
	}
	return nil
}

// Revoke ends the session of tokenHash at now (a sign-out).
func (s *ConsoleSessions) Revoke(ctx context.Context, tokenHash string, now time.Time) error {
	err := s.DB.Gorm.WithContext(ctx).Exec("UPDATE lethe_console_sessions SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
		utcMicro(now), tokenHash).Error
	if err != nil {
		return fmt.Errorf("console: revoke session: %w", err)
	}
	return nil
}

// RevokeTenant ends every open session of tenant's owners at now and
// returns how many it ended.
func (s *ConsoleSessions) RevokeTenant(ctx context.Context, tenant string, now time.Time) (int64, error) {
	res := s.DB.Gorm.WithContext(ctx).Exec("UPDATE lethe_console_sessions SET revoked_at = ? WHERE tenant = ? AND revoked_at IS NULL",
		utcMicro(now), tenant)
	if res.Error != nil {
		return 0, fmt.Errorf("console: revoke sessions of %s: %w", tenant, res.Error)
	}
	return res.RowsAffected, nil
}

// Prune deletes the links and sessions that expired before before.
func (s *ConsoleSessions) Prune(ctx context.Context, before time.Time) error {
	db := s.DB.Gorm.WithContext(ctx)
	if err := db.Exec("DELETE FROM lethe_console_links WHERE expires_at < ?", utcMicro(before)).Error; err != nil {
		return fmt.Errorf("console: prune links: %w", err)
	}
	if err := db.Exec("DELETE FROM lethe_console_sessions WHERE expires_at < ?", utcMicro(before)).Error; err != nil {
		return fmt.Errorf("console: prune sessions: %w", err)
	}
	return nil
}
