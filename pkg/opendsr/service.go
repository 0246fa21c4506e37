package opendsr

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
)

// Resolver finds the address behind a hashed email identity.
type Resolver interface {
	// EmailBySHA256 returns an address held in the application's stores
	// whose folded form (dsr.FoldEmail) hashes to sum, lowercase hex; ""
	// when none does.
	EmailBySHA256(ctx context.Context, sum string) (string, error)
}

// Service is the processor side of OpenDSR: what the HTTP routes call.
type Service struct {
	Requests dsr.RequestService
	Store    Store
	// Resolver answers sha256 identities; nil matches none (no registry).
	Resolver Resolver
	// Exports tells when an access package expires, for results_url; nil
	// gives no results_url.
	Exports dsr.ExportStore
	Signer  *Signer
	// Links keys the results links.
	Links *dsr.SubjectHasher
	Audit dsr.AuditLog
	// PublicURL is where controllers reach Lethe; its host is the
	// processor domain of the signature headers.
	PublicURL string
	Now       dsr.Clock
	Logger    *slog.Logger
}

// Domain is the processor domain: the host of PublicURL.
func (s *Service) Domain() string {
	u, err := url.Parse(s.PublicURL)
	if err != nil {
		return ""
	}
	return u.Host
}

// Discovery answers GET /discovery (§6.3).
func (s *Service) Discovery(legacy bool) *Discovery {
	v := APIVersion
	if legacy {
		v = LegacyAPIVersion
	}
	return &Discovery{
		APIVersion:            v,
		SupportedIdentities:   []IdentityFormat{{Type: "email", Format: "raw"}, {Type: "email", Format: "sha256"}},
		SupportedRequestTypes: []string{TypeAccess, TypePortability, TypeErasure},
		ProcessorCertificate:  strings.TrimRight(s.PublicURL, "/") + CertificatePath,
	}
}

// CertificatePath is where the processor certificate is served.
const CertificatePath = "/opendsr/v2/certificate.pem"

// Create files the request in raw, the body as received (§7.1): a new
// Lethe request for the address its identities name, or, for a repeated
// subject_request_id, the first one. EINVALID for a malformed body (the
// message names the field); EINVALID too for an id that another caller
// used; the errors of dsr.RequestService.Create otherwise.
func (s *Service) Create(ctx context.Context, c dsr.Caller, raw []byte, legacy bool) (*Created, error) {
	var in NewRequest
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&in); err != nil {
		return nil, invalid("the body must be one JSON object in the form of §7.1 of the specification")
	}
	if err := validate(&in, legacy); err != nil {
		return nil, err
	}
	answer := func(r *Record) *Created {
		return &Created{ControllerID: r.ControllerID, ExpectedCompletionTime: r.ExpectedAt, ReceivedTime: r.ReceivedAt,
			EncodedRequest: base64.StdEncoding.EncodeToString(raw), SubjectRequestID: r.SubjectRequestID}
	}
	if prev, err := s.visible(ctx, c, in.SubjectRequestID); err == nil {
		return answer(prev), nil
	} else if dsr.ErrorCode(err) != dsr.ENOTFOUND {
		return nil, err
	} else if _, err := s.Store.Get(ctx, in.SubjectRequestID); err == nil {
		return nil, invalid("subject_request_id is already used by another controller: generate a new UUID v4")
	}
	email, err := s.email(ctx, in.Identities)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC().Truncate(time.Second)
	rec := &Record{SubjectRequestID: in.SubjectRequestID, Tenant: c.Tenant, ControllerID: controllerID(c),
		Type: in.Type, Regulation: in.Regulation, Legacy: legacy, CallbackURLs: in.CallbackURLs,
		ReceivedAt: now, ExpectedAt: now}
	if rec.Regulation == "" {
		rec.Regulation = "gdpr"
	}
	if email != "" {
		typ := dsr.TypeAccess
		if in.Type == TypeErasure {
			typ = dsr.TypeErasure
		}
		req, _, err := s.Requests.Create(ctx, c, dsr.NewRequest{Type: typ, Email: email, Tenant: c.Tenant,
			IdempotencyKey: "opendsr:" + in.SubjectRequestID, Source: dsr.SourceOpenDSR})
		if err != nil {
			return nil, err
		}
		rec.RequestID, rec.ExpectedAt = req.ID, req.DueAt.UTC().Truncate(time.Second)
	} else if err := s.auditNoMatch(ctx, c, rec); err != nil {
		return nil, err
	}
	stored, created, err := s.Store.Insert(ctx, rec)
	if err != nil {
		return nil, err
	}
	if !created && (stored.ControllerID != rec.ControllerID || stored.Tenant != rec.Tenant) {
		// Another controller filed the same id between the check above and
		// the insert: it owns the id, so the request just filed for it is
		// withdrawn and this caller is told as if it had come second.
		s.withdraw(ctx, c, rec.RequestID)
		return nil, invalid("subject_request_id is already used by another controller: generate a new UUID v4")
	}
	return answer(stored), nil
}

// withdraw cancels the Lethe request id filed for a subject_request_id that
// another controller took meanwhile. A request that already started runs
// on: it is the caller's own request within its own tenant. Failures are
// logged, never returned, as the caller's answer does not depend on them.
func (s *Service) withdraw(ctx context.Context, c dsr.Caller, id string) {
	if id == "" {
		return
	}
	if _, err := s.Requests.Cancel(ctx, c, id, "Filed twice by the controller (OpenDSR); the other request goes on."); err != nil && s.Logger != nil {
		s.Logger.Warn("opendsr: withdraw a request whose subject_request_id another controller took", "request", id, "err", err)
	}
}

// email returns the one address the identities name: a raw email as
// given, a sha256 one resolved against the stores; "" when only hashes
// were sent and none matched. EINVALID when raw addresses do not parse or
// the identities name different people.
func (s *Service) email(ctx context.Context, ids []Identity) (string, error) {
	var found string
	for i, id := range ids {
		if !supported(id) {
			continue
		}
		var email string
		if id.Format == "raw" {
			e, err := dsr.NormalizeEmail(id.Value)
			if err != nil {
				return "", invalid(fmt.Sprintf("subject_identities[%d].identity_value is not a plain email address", i))
			}
			email = e
		} else if s.Resolver != nil {
			e, err := s.Resolver.EmailBySHA256(ctx, strings.ToLower(id.Value))
			if err != nil {
				return "", fmt.Errorf("opendsr: resolve a sha256 identity: %w", err)
			}
			email = e
		}
		if email == "" {
			continue
		}
		if found != "" && dsr.FoldEmail(found) != dsr.FoldEmail(email) {
			return "", invalid("subject_identities name different addresses: file one request per person")
		}
		found = email
	}
	return found, nil
}

// auditNoMatch records that a hashed identity matched nobody: the request
// completes without a Lethe request, and the trail says why.
func (s *Service) auditNoMatch(ctx context.Context, c dsr.Caller, rec *Record) error {
	if s.Audit == nil {
		return nil
	}
	_, err := s.Audit.Append(ctx, dsr.AuditEvent{Actor: c.Actor(), Action: "opendsr.no_match", Tenant: rec.Tenant,
		Details: map[string]any{"subject_request_id": rec.SubjectRequestID, "type": rec.Type}})
	return err
}

func controllerID(c dsr.Caller) string {
	if c.Admin {
		return "admin"
	}
	return c.Tenant
}

// visible returns the record of id if c may see it; ENOTFOUND otherwise,
// as for one that does not exist.
func (s *Service) visible(ctx context.Context, c dsr.Caller, id string) (*Record, error) {
	if !ValidID(id) {
		return nil, dsr.Errorf(dsr.ENOTFOUND, "no request with this subject_request_id")
	}
	rec, err := s.Store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !c.CanSee(rec.Tenant) {
		return nil, dsr.Errorf(dsr.ENOTFOUND, "no request with this subject_request_id")
	}
	return rec, nil
}
