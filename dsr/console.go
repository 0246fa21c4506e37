package dsr

import (
	"strings"
	"time"
)

// ConsoleSession is a signed-in visit to the owners' console: a studio's
// owner (Actor "owner:<subject>", Tenant their studio) or the admin (Actor
// "admin:<fingerprint>", Tenant "", the fingerprint a keyed hash of the
// admin token it signed in with, so that the session ends when that token
// is no longer configured). Its token is kept only as TokenHash, a keyed hash,
// so that a reader of the state store cannot take it over; revoking it
// ends the visit at its next request.
type ConsoleSession struct {
	TokenHash  string
	Tenant     string
	Actor      string
	CreatedAt  time.Time
	LastSeenAt time.Time
	// ExpiresAt is the absolute end of the session, however active.
	ExpiresAt time.Time
	RevokedAt *time.Time
}

// Admin reports whether s is the admin's session.
func (s *ConsoleSession) Admin() bool {
	return s.Actor == "admin" || strings.HasPrefix(s.Actor, "admin:")
}

// AdminToken is the fingerprint of the admin token an admin's session
// signed in with; "" for an owner's session, or an admin's session opened
// before sessions were bound to their token.
func (s *ConsoleSession) AdminToken() string {
	fp, _ := strings.CutPrefix(s.Actor, "admin:")
	if fp == s.Actor {
		return "" // an owner, or "admin" alone
	}
	return fp
}

// ConsoleLink is an emailed one-time sign-in link of a studio owner,
// known only by its token's keyed hash.
type ConsoleLink struct {
	Tenant string
	Owner  Subject
}
