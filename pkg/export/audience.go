package export

import (
	"context"
	"strings"

	"github.com/lethe-privacy/lethe/dsr"
)

// Studios reads a studio's profile (dsr.TenantService implements it).
type Studios interface {
	Get(ctx context.Context, slug string) (*dsr.Tenant, error)
}

// Languages tells the language a person asked in (pkg/state's SelfStore
// implements it): "" when the request was not filed by the person.
type Languages interface {
	Language(ctx context.Context, requestID string) (string, error)
}

// audience fills in who a package speaks for and to: the studio of req,
// the language (the person's own, else the studio's default), and the
// privacy page. Nothing here fails a package: a studio or language that
// cannot be read leaves the report in English, naming no studio.
func (s *Service) audience(ctx context.Context, req *dsr.Request, info *PackageInfo) {
	if s.Studios != nil && req.Tenant != "" {
		if t, err := s.Studios.Get(ctx, req.Tenant); err == nil {
			info.Studio = t
		}
	}
	if s.Languages != nil {
		info.Language, _ = s.Languages.Language(ctx, req.ID)
	}
	if info.Language == "" && info.Studio != nil {
		info.Language = info.Studio.Language
	}
	if s.PublicURL != "" {
		info.SelfServiceURL = strings.TrimRight(s.PublicURL, "/") + "/privacy"
		if req.Tenant != "" {
			info.SelfServiceURL += "/" + req.Tenant
		}
	}
}
