package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/spf13/pflag"
)

// Timeouts bound the HTTP server's connections, so that a client that
// trickles its request or idles on a kept-alive connection cannot hold
// one forever, while a long download of an access package still runs to
// its end as long as it makes progress.
type Timeouts struct {
	// Read bounds reading a request's head and body (bodies are at most
	// 64 KiB); the head alone gets at most 10 s of it.
	Read time.Duration
	// Write bounds how long a response may go without writing: every
	// write moves the deadline on, so a download is bounded by a stalled
	// client, not by its length.
	Write time.Duration
	// Idle bounds how long a kept-alive connection waits for its next
	// request.
	Idle time.Duration
}

// maxHeaderRead is the longest a client may take to send a request's head.
const maxHeaderRead = 10 * time.Second

// timeoutFlags registers the flags of the HTTP timeouts.
func (c *Config) timeoutFlags(fs *pflag.FlagSet) {
	fs.DurationVar(&c.HTTP.Read, "http-read-timeout", 30*time.Second, "longest a client may take to send a request, head and body")
	bindEnv(fs, "http-read-timeout", "LETHE_HTTP_READ_TIMEOUT")
	fs.DurationVar(&c.HTTP.Write, "http-write-timeout", 2*time.Minute, "longest a response may go without progress (a download may take longer as long as it moves)")
	bindEnv(fs, "http-write-timeout", "LETHE_HTTP_WRITE_TIMEOUT")
	fs.DurationVar(&c.HTTP.Idle, "http-idle-timeout", 2*time.Minute, "longest a kept-alive connection waits for its next request")
	bindEnv(fs, "http-idle-timeout", "LETHE_HTTP_IDLE_TIMEOUT")
}

// validate refuses a timeout that is not positive, naming its variable.
func (t Timeouts) validate() error {
	for _, v := range []struct {
		name string
		d    time.Duration
	}{{"LETHE_HTTP_READ_TIMEOUT", t.Read}, {"LETHE_HTTP_WRITE_TIMEOUT", t.Write}, {"LETHE_HTTP_IDLE_TIMEOUT", t.Idle}} {
		if v.d <= 0 {
			return fmt.Errorf("%w: %s must be a positive duration such as 30s", errUsage, v.name)
		}
	}
	return nil
}

// newHTTPServer returns the server of h with the timeouts t.
func newHTTPServer(h http.Handler, t Timeouts, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           progressDeadlines(h, t),
		ReadHeaderTimeout: min(maxHeaderRead, t.Read),
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       t.Idle,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// progressDeadlines turns the server's fixed deadlines into deadlines on
// progress. Every write of a response moves the write deadline t.Write
// ahead. A request without a body drops its read deadline once its head
// is read: otherwise the server's background read would hit ReadTimeout
// during a long download and cancel the request's context mid-way.
func progressDeadlines(h http.Handler, t Timeouts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		if r.Body == nil || r.Body == http.NoBody {
			_ = rc.SetReadDeadline(time.Time{})
		}
		h.ServeHTTP(&progressWriter{ResponseWriter: w, rc: rc, d: t.Write}, r)
	})
}

// progressWriter moves the write deadline ahead before every write.
type progressWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
	d  time.Duration
}

func (w *progressWriter) Write(p []byte) (int, error) {
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.d))
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection's writer
// (Flush, deadlines).
func (w *progressWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
