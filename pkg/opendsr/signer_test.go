package opendsr

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func pemOf(t *testing.T, typ string, der []byte) string {
	t.Helper()
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func TestSignerKeysAndCertificates(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	ecDER, _ := x509.MarshalECPrivateKey(ecKey)
	for name, key := range map[string]string{
		"PKCS #1 RSA": pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)),
		"SEC 1 EC":    pemOf(t, "EC PRIVATE KEY", ecDER),
		"PKCS #8 EC":  pemOf(t, "PRIVATE KEY", pkcs8),
	} {
		t.Run(name, func(t *testing.T) {
			s, err := LoadSigner(key, "privacy.example.com")
			if err != nil {
				t.Fatal(err)
			}
			body := []byte(`{"request_status":"completed"}`)
			sig, err := s.Sign(body)
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(s.CertPEM, body, sig); err != nil {
				t.Fatalf("own signature does not verify: %v", err)
			}
			if err := Verify(s.CertPEM, []byte(`{"request_status":"pending"}`), sig); err == nil {
				t.Fatal("a signature verifies another body")
			}
		})
	}

	// A key file with its CA-issued certificate serves that certificate;
	// one whose certificate belongs to another key is refused.
	own, err := LoadSigner(pemOf(t, "EC PRIVATE KEY", ecDER), "privacy.example.com")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "opendsr.pem")
	os.WriteFile(path, []byte(pemOf(t, "EC PRIVATE KEY", ecDER)+string(own.CertPEM)), 0o600)
	withCert, err := LoadSigner(path, "ignored.example")
	if err != nil || string(withCert.CertPEM) != string(own.CertPEM) {
		t.Fatalf("key file with its certificate: %v; served certificate differs: %v", err, string(withCert.CertPEM) != string(own.CertPEM))
	}
	if _, err := LoadSigner(pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))+string(own.CertPEM), "x"); err == nil ||
		!strings.Contains(err.Error(), "not the private key's") {
		t.Fatalf("a certificate of another key: %v", err)
	}

	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	for name, key := range map[string]string{
		"small RSA":    pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small)),
		"no key":       string(own.CertPEM),
		"missing file": filepath.Join(t.TempDir(), "none.pem"),
	} {
		if _, err := LoadSigner(key, "x"); err == nil || !strings.HasPrefix(err.Error(), "LETHE_OPENDSR_KEY") {
			t.Errorf("%s: err %v; want an error naming LETHE_OPENDSR_KEY", name, err)
		}
	}
}
