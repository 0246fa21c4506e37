package console_test

import (
	"bytes"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"gocloud.dev/blob/fileblob"
)

// TestLogo: an owner uploads a PNG, which the header then shows and the
// logo route serves as image/png to that studio only; an SVG, a file that
// is not an image and one past 256 KiB are refused with a plain message.
func TestLogo(t *testing.T) {
	b := setup(t, "sqlite")
	bucket, err := fileblob.OpenBucket(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bucket.Close() })
	b.console.Logos = bucket
	acme := b.signIn(t, acmeOwner)

	var img bytes.Buffer
	if err := png.Encode(&img, image.NewRGBA(image.Rect(0, 0, 40, 20))); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, file string
		data       []byte
		status     int
		says       string
	}{
		{"svg", "logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), 422, "not a PNG, JPEG or GIF"},
		{"text", "logo.png", []byte("hello"), 422, "not a PNG, JPEG or GIF"},
		{"too large", "logo.png", append(img.Bytes(), make([]byte, 300<<10)...), 413, "at most 256 KiB"},
		{"png", "logo.png", img.Bytes(), 200, "Logo saved"},
	} {
		p := acme.upload("/console/studio", "/console/studio/logo", c.file, c.data)
		if p.status != c.status || !p.has(c.says) {
			t.Errorf("%s: %d, want %d saying %q:\n%s", c.name, p.status, c.status, c.says, p.body)
		}
	}
	if p := acme.get("/console"); !p.has(`<img src="/console/logo/acme"`) {
		t.Error("the header shows no logo")
	}
	res := acme.get("/console/logo/acme")
	if res.status != http.StatusOK || res.header.Get("Content-Type") != "image/png" || res.body != img.String() {
		t.Fatalf("logo: %d %s, %d bytes", res.status, res.header.Get("Content-Type"), len(res.body))
	}
	if p := b.signIn(t, globexBoss).get("/console/logo/acme"); p.status != http.StatusNotFound {
		t.Fatalf("another studio's owner read the logo: %d", p.status)
	}
}

// upload posts a file as the logo form does, with the token of from.
func (br *browser) upload(from, path, name string, data []byte) page {
	br.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("csrf", br.get(from).csrf())
	f, err := w.CreateFormFile("logo", name)
	if err != nil {
		br.t.Fatal(err)
	}
	_, _ = f.Write(data)
	_ = w.Close()
	req, err := http.NewRequest(http.MethodPost, br.b.url+path, &body)
	if err != nil {
		br.t.Fatal(err)
	}
	req.Header.Set("Content-Type", w.FormDataContentType())
	res, err := br.client.Do(req)
	if err != nil {
		br.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, body: strings.TrimSpace(string(out)), header: res.Header}
}
