package opendsr

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"strings"
	"time"
)

// Signer signs response and callback bodies with the processor's key
// (§4.2: RSA PKCS #1 v1.5 or ECDSA ASN.1, over the SHA-256 digest of the raw
// body) and holds the certificate that controllers verify them with.
type Signer struct {
	key crypto.Signer
	// CertPEM is the PEM certificate of the key, served at the discovery's
	// processor_certificate URL.
	CertPEM []byte
}

// LoadSigner reads the private key of LETHE_OPENDSR_KEY: the PEM text
// itself, or the path of a file holding it (PKCS #1 "RSA PRIVATE KEY",
// SEC 1 "EC PRIVATE KEY" or PKCS #8 "PRIVATE KEY" of either). When the
// PEM also holds a CERTIFICATE block whose public key matches, that
// certificate is served; otherwise a self-signed one for domain is made,
// valid for ten years. §4.1 asks for a certificate issued by a trusted
// authority: append one to the key file for production.
// Errors name what is wrong with the key, never its content.
func LoadSigner(keyOrPath, domain string) (*Signer, error) {
	data := []byte(keyOrPath)
	if !strings.Contains(keyOrPath, "-----BEGIN") {
		b, err := os.ReadFile(keyOrPath)
		if err != nil {
			return nil, fmt.Errorf("LETHE_OPENDSR_KEY: neither a PEM key nor a readable file: %w", err)
		}
		data = b
	}
	var key crypto.Signer
	var certDER []byte
	for block, rest := pem.Decode(data); block != nil; block, rest = pem.Decode(rest) {
		switch block.Type {
		case "CERTIFICATE":
			if certDER == nil {
				certDER = block.Bytes
			}
		case "RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY":
			k, err := parseKey(block)
			if err != nil {
				return nil, fmt.Errorf("LETHE_OPENDSR_KEY: %w", err)
			}
			key = k
		}
	}
	if key == nil {
		return nil, errors.New("LETHE_OPENDSR_KEY: no RSA or ECDSA private key in the PEM; make one with: openssl ecparam -name prime256v1 -genkey -noout -out opendsr.pem")
	}
	if certDER != nil {
		cert, err := x509.ParseCertificate(certDER)
		if err != nil {
			return nil, fmt.Errorf("LETHE_OPENDSR_KEY: the certificate does not parse: %w", err)
		}
		if !samePublicKey(cert.PublicKey, key.Public()) {
			return nil, errors.New("LETHE_OPENDSR_KEY: the certificate is not the private key's")
		}
	} else {
		der, err := selfSigned(key, domain)
		if err != nil {
			return nil, err
		}
		certDER = der
	}
	return &Signer{key: key, CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER})}, nil
}

func parseKey(block *pem.Block) (crypto.Signer, error) {
	var k any
	var err error
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, fmt.Errorf("the %s block does not parse: %w", block.Type, err)
	}
	switch k := k.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, errors.New("an RSA key must have at least 2048 bits")
		}
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("a %T key; use RSA or ECDSA", k)
}

func samePublicKey(a, b crypto.PublicKey) bool {
	eq, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && eq.Equal(b)
}

// selfSigned makes a certificate of key for domain.
func selfSigned(key crypto.Signer, domain string) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, fmt.Errorf("opendsr: certificate serial: %w", err)
	}
	host, _, _ := strings.Cut(domain, ":")
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: host, Organization: []string{"Lethe OpenDSR processor"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		DNSNames:     []string{host},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("opendsr: self-signed certificate: %w", err)
	}
	return der, nil
}

// Sign returns the base64 signature of the SHA-256 digest of body.
func (s *Signer) Sign(body []byte) (string, error) {
	sum := sha256.Sum256(body)
	sig, err := s.key.Sign(rand.Reader, sum[:], crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("opendsr: sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// Verify checks a base64 signature of body against the PEM certificate
// certPEM, as a controller does (§8.8): what tests and clients use.
func Verify(certPEM, body []byte, signature string) error {
	block, _ := pem.Decode(certPEM)
	if block == nil || block.Type != "CERTIFICATE" {
		return errors.New("opendsr: no PEM certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fmt.Errorf("opendsr: certificate: %w", err)
	}
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return fmt.Errorf("opendsr: signature is not base64: %w", err)
	}
	sum := sha256.Sum256(body)
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, sum[:], sig) {
			return errors.New("opendsr: ECDSA signature does not verify")
		}
		return nil
	}
	return fmt.Errorf("opendsr: unsupported public key %T", cert.PublicKey)
}
