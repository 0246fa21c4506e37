package opendsr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"
)

// Header names of §8.3 and §8.6, and their OpenGDPR forms (§10.1).
const (
	HeaderDomain          = "X-OpenDSR-Processor-Domain"
	HeaderSignature       = "X-OpenDSR-Signature"
	LegacyHeaderDomain    = "X-OpenGDPR-Processor-Domain"
	LegacyHeaderSignature = "X-OpenGDPR-Signature"
)

// Headers returns the domain and signature header names for a request
// filed on the OpenDSR (legacy false) or OpenGDPR routes.
func Headers(legacy bool) (domain, signature string) {
	if legacy {
		return LegacyHeaderDomain, LegacyHeaderSignature
	}
	return HeaderDomain, HeaderSignature
}

// callbackTimeout bounds one callback POST.
const callbackTimeout = 15 * time.Second

// NewCallbackClient returns the HTTP client callbacks are sent with. It
// follows no redirect (a callback URL could redirect anywhere) and, unless
// allowPrivate, refuses to connect to loopback, private, link-local and
// unspecified addresses, checked on the address actually dialled so that a
// name resolving to one later is refused too: a controller must not be
// able to make Lethe POST into the network it runs in.
func NewCallbackClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	if !allowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			ip := net.ParseIP(host)
			if ip == nil || ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
				ip.IsUnspecified() || ip.IsMulticast() {
				return fmt.Errorf("opendsr: callback to a private address %s refused (LETHE_OPENDSR_PRIVATE_CALLBACKS allows it)", host)
			}
			return nil
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = dialer.DialContext
	tr.Proxy = nil
	return &http.Client{Transport: tr, Timeout: callbackTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// SendCallback POSTs job's statuses, in order, to its URL, each body
// signed (§8.6). A status other than 2xx or a failed connection is an
// error, and the queue retries the job with backoff. On a retry, statuses
// that a later job already reports are dropped: the first attempt was made
// (§8.5: at least once), and a late "pending" after "completed" would tell
// the controller the request went back.
func (s *Service) SendCallback(ctx context.Context, client *http.Client, job CallbackJob, retry bool) error {
	if err := CheckCallbackURL(job.URL); err != nil {
		return fmt.Errorf("opendsr: callback of %s: %w", job.SubjectRequestID, err)
	}
	rec, err := s.Store.Get(ctx, job.SubjectRequestID)
	if err != nil {
		return err
	}
	_, req, err := s.current(ctx, rec)
	if err != nil {
		return err
	}
	statuses := job.Statuses
	if retry {
		statuses = notBehind(statuses, StatusOf(rec.Notified))
	}
	domainH, sigH := Headers(rec.Legacy)
	for _, st := range statuses {
		body := s.body(ctx, rec, req, st)
		body.StatusCallbackURL, body.APIVersion = job.URL, ""
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		sig, err := s.Signer.Sign(raw)
		if err != nil {
			return err
		}
		hr, err := http.NewRequestWithContext(ctx, http.MethodPost, job.URL, bytes.NewReader(raw))
		if err != nil {
			return fmt.Errorf("opendsr: callback of %s: %w", job.SubjectRequestID, err)
		}
		hr.Header.Set("Content-Type", "application/json")
		hr.Header.Set(domainH, s.Domain())
		hr.Header.Set(sigH, sig)
		resp, err := client.Do(hr)
		if err != nil {
			return fmt.Errorf("opendsr: callback of %s to %s: %w", job.SubjectRequestID, host(job.URL), unwrapURL(err))
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return fmt.Errorf("opendsr: callback of %s to %s: status %d", job.SubjectRequestID, host(job.URL), resp.StatusCode)
		}
	}
	return nil
}

func host(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "?"
	}
	return u.Host
}

// unwrapURL drops the *url.Error around err, whose text repeats the URL.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// rank orders the OpenDSR statuses; the two final ones rank alike.
func rank(status string) int {
	switch status {
	case StatusPending:
		return 0
	case StatusInProgress:
		return 1
	}
	return 2
}

// notBehind keeps the statuses that rank at least as high as latest, the
// status of the newest callbacks queued.
func notBehind(statuses []string, latest string) []string {
	var out []string
	for _, st := range statuses {
		if rank(st) >= rank(latest) {
			out = append(out, st)
		}
	}
	return out
}
