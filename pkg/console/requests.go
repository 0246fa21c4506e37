package console

import (
	"sort"
	"strings"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
	"github.com/lethe-privacy/lethe/pkg/registry"
)

// requestListData is what the requests page shows.
type requestListData struct {
	Items  []openRequest
	Status string
}

// requestList lists the visitor's requests, newest first, by status.
func (c *Console) requestList(v *Visit) error {
	f := dsr.RequestFilter{Status: dsr.Status(v.R.URL.Query().Get("status"))}
	if f.Status != "" && !f.Status.Valid() {
		return dsr.Errorf(dsr.EINVALID, "Status: choose one from the list.")
	}
	all, err := c.listRequests(v, f)
	if err != nil {
		return err
	}
	now := c.now()
	d := requestListData{Status: string(f.Status)}
	for _, r := range all {
		d.Items = append(d.Items, openRequest{Request: r, Overdue: r.Overdue(now)})
	}
	return v.Render("requests", "Requests", d)
}

// newRequestData is the form of a new request, and the plan of an erasure
// waiting for its confirmation.
type newRequestData struct {
	Type, Email, Tenant string
	// StudioName is the display name of Tenant, which the plan names.
	StudioName string
	Key        string // idempotency key: sending the form twice files one request
	Studios    []*dsr.Tenant
	Plan       *engine.Plan
	RedisKeys  []string
	Processors []string
}

// newRequestForm shows the form: an email and a type (and, for the admin,
// the studio).
func (c *Console) newRequestForm(v *Visit) error {
	d := newRequestData{Type: "erasure", Key: newToken()}
	if err := c.withStudios(v, &d); err != nil {
		return err
	}
	return v.Render("new_request", "New request", d)
}

func (c *Console) withStudios(v *Visit, d *newRequestData) error {
	if !v.Who.Admin {
		return nil
	}
	page, err := c.Tenants.List(v.R.Context(), "", 200)
	if err != nil {
		return err
	}
	d.Studios = page.Items
	return nil
}

// fileRequest files the form's request. An erasure shows its plan first
// (the dry run, audited as the API's is) and is filed only once confirmed.
func (c *Console) fileRequest(v *Visit) error {
	r := v.R
	d := newRequestData{Type: r.FormValue("type"), Email: strings.TrimSpace(r.FormValue("email")), Tenant: r.FormValue("tenant"),
		Key: r.FormValue("key")}
	if !v.Who.Admin {
		d.Tenant = v.Who.Tenant
	}
	if err := c.withStudios(v, &d); err != nil {
		return err
	}
	retry := func(err error) error { return v.RenderError("new_request", "New request", d, err) }
	if !dsr.Type(d.Type).Valid() {
		return retry(dsr.Errorf(dsr.EUNPROCESSABLE, "Type: choose access (a copy of the data) or erasure."))
	}
	email, err := dsr.NormalizeEmail(d.Email)
	if err != nil {
		return retry(inWords(err, emailLabel))
	}
	ctx := r.Context()
	if d.Tenant != "" {
		if err := c.Tenants.Known(ctx, d.Tenant); err != nil {
			return retry(dsr.Errorf(dsr.EUNPROCESSABLE, "Studio: %s", dsr.ErrorMessage(err)))
		}
	}
	if !validToken(d.Key) {
		d.Key = newToken()
	}
	if d.Type == string(dsr.TypeErasure) && r.FormValue("confirm") != "yes" {
		return c.showPlan(v, d, email)
	}
	req, _, err := c.Requests.Create(ctx, v.Caller(), dsr.NewRequest{Type: dsr.Type(d.Type), Email: email, Tenant: d.Tenant,
		IdempotencyKey: "console:" + d.Key})
	if err != nil {
		return retry(err)
	}
	if req.Status == dsr.StatusAwaitingApproval {
		return v.Redirect("/console/requests/"+req.ID, "Request filed: it waits for an owner's approval before it runs.")
	}
	return v.Redirect("/console/requests/"+req.ID, "Request filed: Lethe works on it now.")
}

// showPlan shows what an erasure of email would touch, with the button
// that confirms it.
func (c *Console) showPlan(v *Visit, d newRequestData, email string) error {
	if c.Planner == nil {
		return v.RenderError("new_request", "New request", d, dsr.NoRegistryExecutor{}.Refusal())
	}
	ctx := v.R.Context()
	p, err := c.Planner.Plan(ctx, email, d.Tenant)
	if err != nil {
		return v.RenderError("new_request", "New request", d, err)
	}
	if _, err := c.Audit.Append(ctx, dsr.AuditEvent{Actor: v.Caller().Actor(), Action: "plan.run", Tenant: d.Tenant,
		Subject: c.Subject.Subject(email), Details: map[string]any{"total": p.Total}}); err != nil {
		return err
	}
	d.Plan, d.Email = p, email
	d.RedisKeys, d.Processors = storesOf(c.Registry)
	if d.StudioName, err = c.studioName(v, d.Tenant); err != nil {
		return err
	}
	return v.Render("plan", "Confirm the erasure", d)
}

// studioName is the display name of studio slug: the owner's own, or
// for the admin the registered studio's ("" for none).
func (c *Console) studioName(v *Visit, slug string) (string, error) {
	if slug == "" {
		return "", nil
	} else if !v.Who.Admin {
		return v.Who.Studio, nil
	}
	t, err := c.Tenants.Get(v.R.Context(), slug)
	if err != nil {
		return "", err
	}
	return t.DisplayName, nil
}

// storesOf lists the registry's Redis key templates and processors: what
// an erasure also deletes and tells.
func storesOf(reg *registry.Registry) (keys, processors []string) {
	if reg == nil {
		return nil, nil
	}
	for name, s := range reg.Stores {
		switch s.Kind {
		case registry.KindRedis:
			for _, k := range s.Keys {
				keys = append(keys, name+": "+k)
			}
		case registry.KindProcessor:
			processors = append(processors, name)
		}
	}
	sort.Strings(keys)
	sort.Strings(processors)
	return keys, processors
}
