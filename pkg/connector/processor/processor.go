package processor

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/lethe-privacy/lethe/dsr/engine"
)

// Defaults of a Processor's bounds.
const (
	DefaultMinBackoff = 500 * time.Millisecond
	DefaultMaxBackoff = 30 * time.Second
	// DefaultAttemptTimeout bounds one POST; the deadline bounds them all.
	DefaultAttemptTimeout = 30 * time.Second
)

// Processor is one processor store: a webhook told of erasures.
type Processor struct {
	Name     string
	URL      string
	Secret   []byte
	Deadline time.Duration // from the first attempt to giving up
	// Client sends the notices; nil means a client without redirects.
	Client *http.Client
	// MinBackoff and MaxBackoff bound the wait between attempts; it doubles
	// from MinBackoff, with jitter. Zero means the defaults.
	MinBackoff, MaxBackoff time.Duration
	AttemptTimeout         time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

var _ engine.ProcessorNotifier = (*Processor)(nil)

// body is the JSON a processor receives.
type body struct {
	engine.Notice
	Processor string    `json:"processor"`
	SentAt    time.Time `json:"sent_at"`
}

// Notify implements engine.ProcessorNotifier: it POSTs the signed notice until a 2xx
// answer or the deadline (since + Deadline), waiting with exponential
// backoff between attempts. Each attempt is signed afresh with its own
// timestamp. Errors: one wrapping engine.ErrUnconfirmed naming the
// processor and the last status at the deadline; ctx's error when it ends.
func (p *Processor) Notify(ctx context.Context, n engine.Notice, since time.Time) (int, error) {
	deadline := since.Add(p.Deadline)
	wait := cmp.Or(p.MinBackoff, DefaultMinBackoff)
	attempts, last := 0, "no attempt"
	for {
		remaining := deadline.Sub(p.now())
		if remaining <= 0 {
			return attempts, fmt.Errorf("processor %s: %w (last: %s)", p.Name, engine.ErrUnconfirmed, last)
		}
		attempts++
		status, err := p.post(ctx, n, min(remaining, cmp.Or(p.AttemptTimeout, DefaultAttemptTimeout)))
		if err == nil && status/100 == 2 {
			return attempts, nil
		}
		if ctx.Err() != nil {
			return attempts, ctx.Err()
		}
		last = fmt.Sprintf("HTTP %d", status)
		if err != nil {
			last = "no answer"
		}
		pause := min(wait/2+rand.N(wait/2+1), deadline.Sub(p.now()))
		if pause > 0 {
			t := time.NewTimer(pause)
			select {
			case <-ctx.Done():
				t.Stop()
				return attempts, ctx.Err()
			case <-t.C:
			}
		}
		wait = min(wait*2, cmp.Or(p.MaxBackoff, DefaultMaxBackoff))
	}
}

// post sends one signed attempt and returns the status code.
func (p *Processor) post(ctx context.Context, n engine.Notice, timeout time.Duration) (int, error) {
	now := p.now()
	raw, err := json.Marshal(body{Notice: n, Processor: p.Name, SentAt: now.UTC()})
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.URL, bytes.NewReader(raw))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "lethe")
	req.Header.Set("Idempotency-Key", n.RequestID)
	req.Header.Set(Header, Sign(p.Secret, now, raw))
	resp, err := p.client().Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

func (p *Processor) client() *http.Client {
	if p.Client != nil {
		return p.Client
	}
	return noRedirects
}

// noRedirects does not follow redirects: a notice goes to the URL in the
// registry and nowhere else.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (p *Processor) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}
