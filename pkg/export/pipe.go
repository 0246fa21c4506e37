package export

import "io"

// pipeChunk is the size of the buffers an asyncWriter hands over.
const pipeChunk = 128 << 10

// asyncWriter hands what it is given, in pipeChunk buffers, to a goroutine
// that writes them to w: the caller encodes the next rows while the
// previous ones are compressed, hashed and encrypted on the other core.
// Memory is bounded by the buffers in flight (depth+2).
type asyncWriter struct {
	w    io.Writer
	buf  []byte
	ch   chan []byte
	free chan []byte
	done chan error
	err  error
}

func newAsyncWriter(w io.Writer) *asyncWriter {
	const depth = 4
	a := &asyncWriter{w: w, ch: make(chan []byte, depth), free: make(chan []byte, depth+2), done: make(chan error, 1)}
	for range depth + 2 {
		a.free <- make([]byte, 0, pipeChunk)
	}
	a.buf = <-a.free
	go a.loop()
	return a
}

func (a *asyncWriter) loop() {
	var err error
	for b := range a.ch {
		if err == nil {
			_, err = a.w.Write(b)
		}
		a.free <- b[:0]
	}
	a.done <- err
}

func (a *asyncWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := copy(a.buf[len(a.buf):cap(a.buf)], p)
		a.buf = a.buf[:len(a.buf)+k]
		p, n = p[k:], n+k
		if len(a.buf) == cap(a.buf) {
			a.ch <- a.buf
			a.buf = <-a.free
		}
	}
	return n, nil
}

// Close hands over the last buffer, waits for the goroutine and returns
// the first error w gave.
func (a *asyncWriter) Close() error {
	if a.ch == nil {
		return a.err
	}
	if len(a.buf) > 0 {
		a.ch <- a.buf
	}
	close(a.ch)
	a.err = <-a.done
	a.ch = nil
	return a.err
}
