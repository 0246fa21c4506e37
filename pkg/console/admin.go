package console

import (
	"fmt"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/retention"
)

// studios lists every studio (admin).
func (c *Console) studios(v *Visit) error {
	var all []*dsr.Tenant
	cursor := ""
	for {
		page, err := c.Tenants.List(v.R.Context(), cursor, 200)
		if err != nil {
			return err
		}
		all = append(all, page.Items...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	return v.Render("studios", "Studios", all)
}

// revokeSessions ends every console session of a studio's owners (admin).
func (c *Console) revokeSessions(v *Visit) error {
	slug := v.R.PathValue("tenant")
	if err := dsr.ValidateTenant(slug); err != nil {
		return dsr.Errorf(dsr.ENOTFOUND, "There is no studio %q.", slug)
	}
	ctx := v.R.Context()
	if err := c.Tenants.Known(ctx, slug); err != nil {
		return err
	}
	n, err := c.Sessions.RevokeTenant(ctx, slug, c.now())
	if err != nil {
		return err
	}
	if _, err := c.Audit.Append(ctx, dsr.AuditEvent{Actor: v.Caller().Actor(), Action: "console.sessions_revoked", Tenant: slug,
		Details: map[string]any{"sessions": n}}); err != nil {
		return err
	}
	return v.Redirect("/console/studios", fmt.Sprintf("%d session(s) of %s ended.", n, slug))
}

// holds lists the legal holds (admin).
func (c *Console) holds(v *Visit) error {
	var list []*retention.Hold
	if c.Holds != nil {
		var err error
		if list, err = c.Holds.Holds(v.R.Context(), false); err != nil {
			return err
		}
	}
	return v.Render("holds", "Legal holds", list)
}

// auditData is the audit page: the newest entries and the chain's check.
type auditData struct {
	Entries []*dsr.AuditEntry
	Check   *dsr.AuditVerification
}

// auditShown is how many of the newest entries the audit page lists.
const auditShown = 100

// auditTrail shows the newest entries, newest first, and whether the
// chain verifies (admin).
func (c *Console) auditTrail(v *Visit) error {
	ctx := v.R.Context()
	check, err := c.Audit.Verify(ctx)
	if err != nil {
		return err
	}
	entries, err := c.Audit.List(ctx, dsr.AuditFilter{AfterSeq: max(check.Entries-auditShown, 0), Limit: auditShown})
	if err != nil {
		return err
	}
	for i, j := 0, len(entries)-1; i < j; i, j = i+1, j-1 {
		entries[i], entries[j] = entries[j], entries[i]
	}
	return v.Render("audit", "Audit trail", auditData{Entries: entries, Check: check})
}
