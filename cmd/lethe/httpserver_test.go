package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestLongDownloadOutlivesTimeouts: a response that keeps writing runs to
// its end although it lasts longer than the read and the write timeouts,
// and its request's context is not cancelled on the way (the package
// download reads its bucket with it).
func TestLongDownloadOutlivesTimeouts(t *testing.T) {
	const chunks, chunk = 10, 1000
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for range chunks {
			if r.Context().Err() != nil {
				return
			}
			w.Write(bytes.Repeat([]byte("x"), chunk))
			http.NewResponseController(w).Flush()
			time.Sleep(200 * time.Millisecond)
		}
	})
	addr := serveOneSecond(t, h)
	start := time.Now()
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(body) != chunks*chunk {
		t.Fatalf("download: %d bytes, %v; want %d", len(body), err, chunks*chunk)
	}
	if took := time.Since(start); took < oneSecond.Read+oneSecond.Write {
		t.Fatalf("download took %s; the test needs it to outlast both timeouts", took)
	}
}

// TestStalledDownloadIsCut: a client that stops reading is cut off once a
// write has waited for the write timeout, so it cannot hold a connection
// and its handler forever.
func TestStalledDownloadIsCut(t *testing.T) {
	failed := make(chan time.Time, 1)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := bytes.Repeat([]byte("x"), 64<<10)
		for range 1 << 14 { // 1 GiB: far more than the socket buffers hold
			if _, err := w.Write(buf); err != nil {
				failed <- time.Now()
				return
			}
		}
	})
	addr := serveOneSecond(t, h)
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The server's write deadline starts once it has read the request, so
	// no earlier than just before the request is sent.
	start := time.Now()
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") // and never read
	select {
	case at := <-failed:
		if took := at.Sub(start); took < oneSecond.Write {
			t.Fatalf("the write failed after %s, before the write timeout", took)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("a client that stopped reading still held its download after 15s")
	}
}

// TestHTTPTimeouts runs the real service with short timeouts: a request
// whose body trickles in (each byte well within the timeout) is cut off
// at the read timeout, and a kept-alive connection is usable while young
// and closed once idle for the idle timeout.
func TestHTTPTimeouts(t *testing.T) {
	s := startDemo(t, "--http-read-timeout", "1s", "--http-idle-timeout", "1s")
	addr := strings.TrimPrefix(s.base, "http://")

	t.Run("trickled body", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		const size = 40 // 40 bytes at one per 300 ms: 12 s if nothing cuts it
		fmt.Fprintf(conn, "POST /v1/plan HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", addr, s.token, size)
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for range size {
				select {
				case <-stop:
					return
				case <-time.After(300 * time.Millisecond):
				}
				if _, err := conn.Write([]byte(" ")); err != nil {
					return
				}
			}
		}()
		start := time.Now()
		conn.SetReadDeadline(time.Now().Add(8 * time.Second))
		_, err = io.Copy(io.Discard, conn) // until the server closes
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the server still held the trickling request after %s", time.Since(start))
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("the trickling request was cut after %s; want about 1s", took)
		}
	})

	t.Run("idle keep-alive", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		get := func() {
			t.Helper()
			fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
			conn.SetReadDeadline(time.Now().Add(5 * time.Second))
			resp, err := http.ReadResponse(r, nil)
			if err != nil {
				t.Fatalf("GET /healthz on the kept-alive connection: %v", err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || resp.Close {
				t.Fatalf("GET /healthz: %d, close %v; want 200 keeping the connection", resp.StatusCode, resp.Close)
			}
		}
		get()
		time.Sleep(300 * time.Millisecond)
		get() // still open well within the idle timeout
		idle := time.Now()
		conn.SetReadDeadline(time.Now().Add(8 * time.Second))
		if _, err := r.ReadByte(); !errors.Is(err, io.EOF) {
			t.Fatalf("idle connection: %v after %s; want the server to close it (EOF)", err, time.Since(idle))
		}
		if took := time.Since(idle); took < 800*time.Millisecond || took > 5*time.Second {
			t.Fatalf("idle connection closed after %s; want about 1s", took)
		}
	})
}

// oneSecond are the timeouts of the servers serveOneSecond starts.
var oneSecond = Timeouts{Read: time.Second, Write: time.Second, Idle: time.Second}

// serveOneSecond serves h on a free local port with the timeouts oneSecond
// until t ends, and returns its address.
func serveOneSecond(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := newHTTPServer(h, oneSecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}
