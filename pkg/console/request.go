package console

import (
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/dsr/engine"
)

// requestData is what a request's page and its certificate show.
type requestData struct {
	*dsr.Request
	Subject    dsr.Subject
	Overdue    bool
	Counts     []countLine
	Steps      []dsr.Step
	Processors []dsr.Step
	Proof      *dsr.AuditEntry // the audit entry that closed the request
	Days       int
	Reason     string // of an extension
	// CancelReason is the reason of a cancellation, kept when the form
	// comes back with an error.
	CancelReason string
	// Plan is the plan a held request was filed with.
	Plan *engine.Plan
}

type countLine struct {
	Name string
	N    int64
}

// loadRequest reads the request of the path as the visitor may see it:
// another studio's is ENOTFOUND, as one that does not exist.
func (c *Console) loadRequest(v *Visit) (*requestData, error) {
	ctx := v.R.Context()
	r, err := c.Requests.Get(ctx, v.Caller(), v.R.PathValue("id"))
	if err != nil {
		return nil, err
	}
	d := &requestData{Request: r, Overdue: r.Overdue(c.now()), Subject: r.Subject}
	d.Plan = heldPlan(d)
	if !v.Who.Admin {
		d.Subject = c.Subject.TenantView(v.Who.Tenant, r.Subject)
	}
	for k, n := range r.Counts {
		d.Counts = append(d.Counts, countLine{Name: k, N: n})
	}
	sort.Slice(d.Counts, func(i, j int) bool { return d.Counts[i].Name < d.Counts[j].Name })
	if c.Steps != nil {
		steps, err := c.Steps(ctx, r.ID)
		if err != nil {
			return nil, err
		}
		for _, s := range steps {
			if strings.HasPrefix(s.Detail, "{") || strings.HasPrefix(s.Detail, "[") {
				s.Detail = "" // progress kept for resuming, not for people
			}
			if strings.HasPrefix(s.Name, "notify ") {
				d.Processors = append(d.Processors, s)
			}
			d.Steps = append(d.Steps, s)
		}
	}
	if r.Status.Terminal() {
		entries, err := c.Audit.List(ctx, dsr.AuditFilter{RequestID: r.ID, Limit: 100})
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if e.Action == "request."+string(r.Status) {
				d.Proof = e
			}
		}
	}
	return d, nil
}

// requestPage shows a request's timeline and what can be done with it.
func (c *Console) requestPage(v *Visit) error {
	d, err := c.loadRequest(v)
	if err != nil {
		return err
	}
	return v.Render("request", "Request "+d.ID, d)
}

// certificate is the printable record of a finished request.
func (c *Console) certificate(v *Visit) error {
	d, err := c.loadRequest(v)
	if err != nil {
		return err
	}
	if !d.Status.Terminal() {
		return dsr.Errorf(dsr.ECONFLICT, "The certificate exists once the request has ended; it is %s.", d.Status)
	}
	return v.Render("certificate", "Certificate of request "+d.ID, d)
}

// cancelRequest cancels a request not yet running, once confirmed, with a
// reason the person is told.
func (c *Console) cancelRequest(v *Visit) error {
	if v.R.FormValue("confirm") != "yes" {
		return c.requestError(v, dsr.Errorf(dsr.EUNPROCESSABLE, "Cancel: tick the box to confirm the cancellation."))
	}
	ctx := v.R.Context()
	r, err := c.Requests.Cancel(ctx, v.Caller(), v.R.PathValue("id"), v.R.FormValue("cancel-reason"))
	if err != nil {
		return c.requestError(v, err)
	}
	dsr.TellEnded(ctx, c.Ended, c.logger(), r)
	return v.Redirect("/console/requests/"+r.ID, "Request cancelled: the person is told why.")
}

// extendRequest moves the deadline with a reason.
func (c *Console) extendRequest(v *Visit) error {
	days, err := strconv.Atoi(strings.TrimSpace(v.R.FormValue("days")))
	if err != nil {
		return c.requestError(v, dsr.Errorf(dsr.EUNPROCESSABLE, "Days: a whole number from 1 to 60."))
	}
	r, err := c.Requests.Extend(v.R.Context(), v.Caller(), v.R.PathValue("id"), days, v.R.FormValue("reason"))
	if err != nil {
		return c.requestError(v, err)
	}
	return v.Redirect("/console/requests/"+r.ID, "Deadline extended.")
}

// requestError shows err on the request's page, the form kept.
func (c *Console) requestError(v *Visit, err error) error {
	d, lerr := c.loadRequest(v)
	if lerr != nil {
		return lerr
	}
	d.Reason, d.CancelReason = v.R.FormValue("reason"), v.R.FormValue("cancel-reason")
	d.Days, _ = strconv.Atoi(v.R.FormValue("days"))
	return v.RenderError("request", "Request "+d.ID, d, inWords(err, requestLabels))
}

// requestLabels are the request page's labels of the API's fields.
var requestLabels = map[string]string{"reason": "Reason", "days": "Days"}

// export downloads the access package of a completed access request.
func (c *Console) export(v *Visit) error {
	if c.Exports == nil {
		return dsr.Errorf(dsr.ECONFLICT, "Access packages are not configured: start Lethe with LETHE_EXPORT_KEY.")
	}
	rec, body, err := c.Exports.Open(v.R.Context(), v.Caller(), v.R.PathValue("id"))
	if err != nil {
		return err
	}
	defer body.Close()
	h := v.W.Header()
	h.Set("Content-Type", "application/zip")
	h.Set("Content-Disposition", `attachment; filename="lethe-access-`+rec.RequestID+`.zip"`)
	h.Set("Cache-Control", "no-store")
	v.W.WriteHeader(http.StatusOK)
	if _, err := io.Copy(v.W, body); err != nil {
		c.logger().Error("console: export stream failed", "request", rec.RequestID, "error", err)
	}
	return nil
}
