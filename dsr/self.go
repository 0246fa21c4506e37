package dsr

import (
	"context"
	"io"
	"time"
)

// Self-service limits (issue 7): a verification code is six digits, lives
// ten minutes and allows three attempts before the request is locked.
const (
	CodeTTL         = 10 * time.Minute
	MaxCodeAttempts = 3
)

// SelfAsk is what an end user sends to file a request for themselves,
// without a token: the request waits in StatusVerifying until the emailed
// code comes back.
type SelfAsk struct {
	Type   Type
	Email  string
	Tenant string // "" asks across every tenant
	IP     string // the client's address, for rate limits only; never stored in clear
	// Language is the tag of the language the person used ("de"), or
	// their Accept-Language header, for the mails that follow; "" (or a
	// language Lethe does not have) for the studio's default.
	Language string
}

// SelfTicket is the answer to SelfAsk. It is the same for an address Lethe
// knows and one it does not: whether anything is held is found out only
// when the request runs.
type SelfTicket struct {
	ID            string    `json:"id"`
	Status        Status    `json:"status"`
	CodeExpiresAt time.Time `json:"code_expires_at"`
}

// SelfService is the end user's way in: file, verify, and download.
type SelfService interface {
	// Ask files a request in StatusVerifying and emails a code to the
	// address; an earlier request of the same address still waiting for
	// its code keeps its code (a stranger asking for the address must not
	// cancel it). EUNPROCESSABLE for a bad type, email or tenant;
	// ERATELIMITED (as a *RateLimitError) past the client's limits;
	// EUNAVAILABLE when the code could not be sent.
	Ask(ctx context.Context, in SelfAsk) (*SelfTicket, error)
	// Verify checks code against request id: the request becomes pending
	// and is queued in the same transaction. ENOTFOUND for an id that is no
	// self-service request; EGONE for an expired code; EUNPROCESSABLE for a
	// wrong code with attempts left; EFORBIDDEN for the last wrong code,
	// which locks the request (StatusDenied); ECONFLICT when the request no
	// longer waits for a code; ERATELIMITED past the limits.
	Verify(ctx context.Context, id, code, ip string) (*Request, error)
	// Download opens the access package that an emailed link's token
	// stands for. ENOTFOUND for a token that was never issued; EGONE once
	// the link or its package has expired.
	Download(ctx context.Context, token string) (*Export, io.ReadCloser, error)
}

// SelfNotice is a closing notice still to send: a self-service request
// has ended and its address is still in the outbox.
type SelfNotice struct {
	Request *Request
	Email   string
}

// RateLimitError is an ERATELIMITED error that says when to come back.
type RateLimitError struct {
	Coded      *Error
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string { return e.Coded.Error() }

// Unwrap returns the coded error, so ErrorCode and ErrorMessage see it.
func (e *RateLimitError) Unwrap() error { return e.Coded }

// WrongCodeError is the EUNPROCESSABLE (attempts left) or EFORBIDDEN
// (locked) error of a wrong code, with how many attempts are left, for a
// page to say so in its own words.
type WrongCodeError struct {
	Coded *Error
	Left  int
}

func (e *WrongCodeError) Error() string { return e.Coded.Error() }

// Unwrap returns the coded error, so ErrorCode and ErrorMessage see it.
func (e *WrongCodeError) Unwrap() error { return e.Coded }
