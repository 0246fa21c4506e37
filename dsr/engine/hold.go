package engine

import (
	"context"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/connector"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// SubjectRows returns, for every collection the walk from email reaches
// (restricted to tenant when it is not empty), one Selection of the rows
// tied to the subject, with every key set loaded: what retention excludes
// for a legal hold on a person. It changes nothing and freezes nothing.
//
// Errors: EUNPROCESSABLE for an email or tenant that is not valid, a store
// of the registry that is not configured, or more keys under one hop than
// MaxInline; EUNAVAILABLE when a store cannot be reached.
func (e *Engine) SubjectRows(ctx context.Context, email, tenant string) (map[string]connector.Selection, error) {
	norm, err := dsr.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if tenant != "" {
		if err := dsr.ValidateTenant(tenant); err != nil {
			return nil, err
		}
	}
	r := e.newRun(e.Registry, norm, tenant, nil)
	if err := r.checkStores(); err != nil {
		return nil, err
	}
	targets, err := r.scope(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]connector.Selection, len(targets))
	for _, t := range targets {
		sel, err := t.inline(ctx, r)
		if err != nil {
			return nil, err
		}
		out[t.c.Key] = sel
	}
	return out, nil
}

// Anonymization returns how c's erasure strategies rewrite a row, for
// retention rules whose action is anonymize. Errors: EUNPROCESSABLE when c
// uses hmac and the engine has no Hasher.
func (e *Engine) Anonymization(c *registry.Collection) (connector.Anonymization, error) {
	return e.newRun(e.Registry, "", "", nil).anonymization(c)
}
