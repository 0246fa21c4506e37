package selfservice

import (
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/mail"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// codeStore is a hitStore that keeps the one request Create was given,
// with its code hash and expiry, and verifies codes as pkg/state's
// SelfStore does: by the hash alone.
type codeStore struct {
	hitStore
	req      *dsr.Request
	hash     string
	expires  time.Time
	linkTo   string
	linkEnds time.Time
	lang     string
}

func (c *codeStore) Create(_ context.Context, req *dsr.Request, codeHash string, expires time.Time, lang string) (*dsr.Request, error) {
	copied := *req
	copied.Status = dsr.StatusVerifying
	c.req, c.hash, c.expires, c.lang = &copied, codeHash, expires, lang
	return &copied, nil
}

func (c *codeStore) Language(context.Context, string) (string, error) { return c.lang, nil }

func (c *codeStore) Load(_ context.Context, id string) (*dsr.Request, error) {
	if c.req == nil || c.req.ID != id {
		return nil, dsr.Errorf(dsr.ENOTFOUND, "request %s: not found", id)
	}
	return c.req, nil
}

func (c *codeStore) Verify(_ context.Context, id string, matches func(string) bool) (*dsr.Request, error) {
	if !matches(c.hash) {
		return nil, dsr.Errorf(dsr.EUNPROCESSABLE, "code: wrong; 2 attempt(s) left")
	}
	c.req.Status = dsr.StatusPending
	return c.req, nil
}

func (c *codeStore) Link(context.Context, string) (string, time.Time, error) {
	if c.linkTo == "" {
		return "", time.Time{}, dsr.Errorf(dsr.ENOTFOUND, "this download link does not exist")
	}
	return c.linkTo, c.linkEnds, nil
}

// outbox is a Mailer that keeps what it is given, or fails.
type outbox struct {
	sent []mail.Message
	fail bool
}

func (o *outbox) Send(_ context.Context, m mail.Message) error {
	if o.fail {
		return errors.New("smtp: 451 try later")
	}
	o.sent = append(o.sent, m)
	return nil
}

var selfNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newService(st Store, out mail.Mailer) *Service {
	return &Service{Store: st, Mail: out, Subject: dsr.NewSubjectHasher(testKey),
		Now: func() time.Time { return selfNow }, Logger: slog.New(slog.DiscardHandler)}
}

var sixDigits = regexp.MustCompile(`^[0-9]{6}$`)

// TestNewCode: a code is six digits, leading zeros kept, and codes vary.
func TestNewCode(t *testing.T) {
	seen := map[string]bool{}
	for range 500 {
		c, err := newCode()
		if err != nil || !sixDigits.MatchString(c) {
			t.Fatalf("newCode = %q, %v; want six digits", c, err)
		}
		seen[c] = true
	}
	if len(seen) < 490 {
		t.Errorf("500 codes, %d distinct: not random enough", len(seen))
	}
}

// TestCodeHashBindsRequestAndKey: a code's hash holds neither the code nor
// a bare digest of it, and the same code hashes differently for another
// request or under another key, so one code opens one request only.
func TestCodeHashBindsRequestAndKey(t *testing.T) {
	s := newService(nil, nil)
	h := s.codeHash("req-1", "123456")
	if h != s.codeHash("req-1", "123456") {
		t.Fatal("the hash of one code for one request changes")
	}
	if strings.Contains(h, "123456") {
		t.Errorf("the hash holds the code: %s", h)
	}
	if h == s.codeHash("req-2", "123456") {
		t.Error("one code hashes alike for two requests")
	}
	other := &Service{Subject: dsr.NewSubjectHasher([]byte("another-key-another-key-another-k"))}
	if h == other.codeHash("req-1", "123456") {
		t.Error("the hash does not depend on the key")
	}
}

// TestAskSendsTheCodeItStores: Ask stores the request as verifying with
// the hash of the code it emails, valid for CodeTTL; it refuses a bad type
// or address before sending anything; a mail that fails is EUNAVAILABLE.
func TestAskSendsTheCodeItStores(t *testing.T) {
	st := &codeStore{hitStore: hitStore{hits: map[string]int{}}}
	out := &outbox{}
	s := newService(st, out)
	ctx := context.Background()
	tk, err := s.Ask(ctx, dsr.SelfAsk{Type: dsr.TypeErasure, Email: " Grace@Example.COM ", Tenant: "career-coach", IP: "203.0.113.9"})
	if err != nil {
		t.Fatal(err)
	}
	if tk.ID != st.req.ID || tk.Status != dsr.StatusVerifying || !tk.CodeExpiresAt.Equal(selfNow.Add(dsr.CodeTTL)) {
		t.Fatalf("ticket %+v; want the stored request, verifying, expiring after %s", tk, dsr.CodeTTL)
	}
	if st.req.Email != "Grace@example.com" || st.req.Subject != s.Subject.Subject("Grace@example.com") {
		t.Errorf("stored %q / %q; want the normalised address and its subject", st.req.Email, st.req.Subject)
	}
	if len(out.sent) != 1 || out.sent[0].To != "Grace@example.com" || !sixDigits.MatchString(out.sent[0].Secret) {
		t.Fatalf("mails %+v; want one code to the address", out.sent)
	}
	code := out.sent[0].Secret
	if !strings.Contains(out.sent[0].Body, code) || st.hash != s.codeHash(st.req.ID, code) {
		t.Fatal("the emailed code is not the one whose hash is stored")
	}

	for _, bad := range []dsr.SelfAsk{
		{Type: "delete", Email: "grace@example.com"},
		{Type: dsr.TypeAccess, Email: "Grace <grace@example.com>"},
		{Type: dsr.TypeAccess, Email: "grace@example.com", Tenant: "-no"},
	} {
		if _, err := s.Ask(ctx, bad); dsr.ErrorCode(err) != dsr.EUNPROCESSABLE {
			t.Errorf("Ask(%+v) = %v; want %s", bad, err, dsr.EUNPROCESSABLE)
		}
	}
	if len(out.sent) != 1 {
		t.Errorf("%d mails after refused asks; want still 1", len(out.sent))
	}
	out.fail = true
	if _, err := s.Ask(ctx, dsr.SelfAsk{Type: dsr.TypeAccess, Email: "grace@example.com"}); dsr.ErrorCode(err) != dsr.EUNAVAILABLE {
		t.Errorf("Ask with the mail down = %v; want %s", err, dsr.EUNAVAILABLE)
	}
}

// TestAskHasNoLimitPerAddress: asking for one address from many clients is
// never limited (a stranger must not use up its owner's asks), while one
// client is limited past AsksPerIP.
func TestAskHasNoLimitPerAddress(t *testing.T) {
	st := &codeStore{hitStore: hitStore{hits: map[string]int{}}}
	s := newService(st, &outbox{})
	s.Limits.AsksPerIP = 2
	ctx := context.Background()
	for i := range 10 {
		ip := "198.51.100." + string(rune('1'+i))
		if _, err := s.Ask(ctx, dsr.SelfAsk{Type: dsr.TypeAccess, Email: "grace@example.com", IP: ip}); err != nil {
			t.Fatalf("ask %d from %s: %v", i+1, ip, err)
		}
	}
	for i, want := range []string{"", "", dsr.ERATELIMITED} {
		_, err := s.Ask(ctx, dsr.SelfAsk{Type: dsr.TypeAccess, Email: "someone@example.com", IP: "203.0.113.5"})
		if dsr.ErrorCode(err) != want {
			t.Errorf("ask %d from one client: %v; want %q", i+1, err, want)
		}
	}
}

// TestRightCodeSpendsNothing: the right code verifies the request and gives
// back the wrong-code reservations of the client and the address; only
// the attempt itself counts against the client.
func TestRightCodeSpendsNothing(t *testing.T) {
	st := &codeStore{hitStore: hitStore{hits: map[string]int{}}}
	out := &outbox{}
	s := newService(st, out)
	ctx := context.Background()
	tk, err := s.Ask(ctx, dsr.SelfAsk{Type: dsr.TypeAccess, Email: "grace@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	const ip = "203.0.113.7"
	code, wrongCode := out.sent[0].Secret, "000000"
	if code == wrongCode {
		wrongCode = "000001"
	}
	if _, err := s.Verify(ctx, tk.ID, wrongCode, ip); dsr.ErrorCode(err) != dsr.EUNPROCESSABLE {
		t.Fatalf("a wrong code: %v; want %s", err, dsr.EUNPROCESSABLE)
	}
	r, err := s.Verify(ctx, tk.ID, " "+code+" ", ip)
	if err != nil || r.Status != dsr.StatusPending {
		t.Fatalf("the right code: %+v %v; want pending", r, err)
	}
	failIP, failEmail := s.bucket("fail-ip", ip), s.bucket("fail-email", string(st.req.Subject))
	if st.hits[failIP] != 1 || st.hits[failEmail] != 1 {
		t.Errorf("wrong codes counted: client %d, address %d; want 1 each (the right code gave its reservation back)",
			st.hits[failIP], st.hits[failEmail])
	}
	if n := st.hits[s.bucket("verify-ip", ip)]; n != 2 {
		t.Errorf("attempts counted against the client: %d; want 2", n)
	}
}

// TestLimitedSaysWhenToComeBack: a limit's error carries the rest of its
// window, rounded to the second and at least one second.
func TestLimitedSaysWhenToComeBack(t *testing.T) {
	s := newService(nil, nil)
	for _, tc := range []struct {
		started time.Time
		want    time.Duration
	}{
		{selfNow.Add(-20 * time.Minute), 40 * time.Minute},
		{selfNow.Add(-time.Hour + 300*time.Millisecond), time.Second},
		{selfNow.Add(-2 * time.Hour), time.Second},
	} {
		var rl *dsr.RateLimitError
		err := s.limited(tc.started, time.Hour)
		if !errors.As(err, &rl) || rl.RetryAfter != tc.want || dsr.ErrorCode(err) != dsr.ERATELIMITED {
			t.Errorf("window started %s ago: %v; want retry after %s", selfNow.Sub(tc.started), err, tc.want)
		}
	}
}

// TestDownloadRefusesBadLinks: a token that is not 32 bytes is not looked
// up; an unknown one is ENOTFOUND; an expired one EGONE, from its expiry
// on.
func TestDownloadRefusesBadLinks(t *testing.T) {
	st := &codeStore{hitStore: hitStore{hits: map[string]int{}}}
	s := newService(st, nil)
	ctx := context.Background()
	token := base64.RawURLEncoding.EncodeToString(make([]byte, tokenBytes))
	for _, bad := range []string{"", "short", token + "AA", strings.Repeat("!", 43)} {
		if _, _, err := s.Download(ctx, bad); dsr.ErrorCode(err) != dsr.ENOTFOUND {
			t.Errorf("Download(%q) = %v; want %s", bad, err, dsr.ENOTFOUND)
		}
	}
	if _, _, err := s.Download(ctx, token); dsr.ErrorCode(err) != dsr.ENOTFOUND {
		t.Errorf("unknown token: %v; want %s", err, dsr.ENOTFOUND)
	}
	st.linkTo, st.linkEnds = "req-1", selfNow
	if _, _, err := s.Download(ctx, token); dsr.ErrorCode(err) != dsr.EGONE {
		t.Errorf("a link at its expiry: %v; want %s", err, dsr.EGONE)
	}
}

// TestPublicOrigin: the scheme and host of PublicURL, lower-cased, or ""
// when it has none.
func TestPublicOrigin(t *testing.T) {
	for in, want := range map[string]string{
		"https://Privacy.Example.com/base/": "https://privacy.example.com",
		"http://127.0.0.1:8080":             "http://127.0.0.1:8080",
		"privacy.example.com":               "",
		"":                                  "",
		"://bad":                            "",
	} {
		if got := (&Service{PublicURL: in}).PublicOrigin(); got != want {
			t.Errorf("PublicOrigin(%q) = %q; want %q", in, got, want)
		}
	}
}
