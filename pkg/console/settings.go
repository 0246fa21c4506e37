package console

import (
	"strings"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/pkg/registry"
	"github.com/lethe-privacy/lethe/retention"
)

// settingsData is the settings form.
type settingsData struct {
	Studio    string
	Settings  *retention.Settings
	Rules     []settingsRule
	Responses string // the collections collect_responses: false purges
	Values    map[string]string
	// Registry is the registry's approval: section, which every studio
	// follows whatever its own choice.
	Registry registry.Approval
}

// settingsRule is one collection's retention window: the registry's as
// the hint, the studio's override (only shorter) as the value.
type settingsRule struct {
	retention.Rule
	Override string
}

// studioOf is the studio a studio page is about: the owner's own, or for
// the admin the one named by ?studio= (ENOTFOUND when none or unknown).
func (c *Console) studioOf(v *Visit) (string, error) {
	if !v.Who.Admin {
		return v.Who.Tenant, nil
	}
	slug := v.R.FormValue("studio")
	if slug == "" {
		return "", dsr.Errorf(dsr.ENOTFOUND, "Choose a studio first: open it from the Studios page.")
	}
	if err := dsr.ValidateTenant(slug); err != nil {
		return "", dsr.Errorf(dsr.ENOTFOUND, "There is no studio %q.", slug)
	}
	return slug, c.Tenants.Known(v.R.Context(), slug)
}

// settingsPage shows the studio's retention windows and switches.
func (c *Console) settingsPage(v *Visit) error {
	d, err := c.settingsData(v)
	if err != nil {
		return err
	}
	return v.Render("settings", "Settings", d)
}

func (c *Console) settingsData(v *Visit) (*settingsData, error) {
	slug, err := c.studioOf(v)
	if err != nil {
		return nil, err
	}
	if c.Settings == nil || c.Registry == nil {
		return nil, dsr.NoRegistryExecutor{}.Refusal()
	}
	st, err := c.Settings.Settings(v.R.Context(), slug)
	if err != nil {
		return nil, err
	}
	d := &settingsData{Studio: slug, Settings: st, Responses: retention.ResponseNames(c.Registry), Registry: c.Registry.Approval}
	for _, r := range retention.Rules(c.Registry, nil) {
		if r.Timestamp != "" {
			d.Rules = append(d.Rules, settingsRule{Rule: r, Override: st.Retention[r.Collection]})
		}
	}
	return d, nil
}

// saveSettings applies the form through the settings service, as PUT
// /v1/tenants/{t}/settings does: windows only shorter than the
// registry's, and collect_responses off only with its confirmation.
func (c *Console) saveSettings(v *Visit) error {
	d, err := c.settingsData(v)
	if err != nil {
		return err
	}
	r := v.R
	overrides := map[string]string{}
	for i, rule := range d.Rules {
		val := strings.TrimSpace(r.FormValue("retention." + rule.Collection))
		d.Rules[i].Override = val
		if val != "" {
			overrides[rule.Collection] = val
		}
	}
	retry := func(err error) error { return v.RenderError("settings", "Settings", d, err) }
	checked, err := retention.CheckOverrides(c.Registry, overrides)
	if err != nil {
		// The API's message names the JSON field (retention.<collection>)
		// and speaks of tenants; the form says it as its labels do.
		labels := map[string]string{}
		for _, rule := range d.Rules {
			labels["retention."+rule.Collection] = "Retention window of " + rule.Collection
		}
		err = inWords(err, labels)
		return retry(dsr.Errorf(dsr.ErrorCode(err), "%s", strings.Replace(dsr.ErrorMessage(err), "a tenant may only", "your studio may only", 1)))
	}
	collect, obfuscate := r.FormValue("collect_responses") == "on", r.FormValue("obfuscate_history") == "on"
	approveErasure, approveAccess := r.FormValue("approve_erasure") == "on", r.FormValue("approve_access") == "on"
	change := retention.SettingsChange{Retention: checked, CollectResponses: &collect, ObfuscateHistory: &obfuscate,
		ConfirmPurge: r.FormValue("confirm_purge") == "on", ApproveErasure: &approveErasure, ApproveAccess: &approveAccess}
	_, err = c.Settings.UpdateSettings(r.Context(), v.Caller().Actor(), d.Studio, func(cur *retention.Settings) (*retention.Settings, error) {
		return change.Apply(cur, c.Registry, c.ResponsesEvery)
	})
	if err != nil && strings.HasPrefix(dsr.ErrorMessage(err), "collect_responses:") {
		err = dsr.Errorf(dsr.EUNPROCESSABLE, "Collect responses: turning it off purges the responses already stored (%s, with the rows "+
			"and files that hang from them; rows under a legal hold stay) and tells the application to store no more. "+
			"Tick the confirmation box to go ahead.", d.Responses)
	}
	if err != nil {
		d.Settings.CollectResponses, d.Settings.ObfuscateHistory = collect, obfuscate
		d.Settings.Approval = dsr.ApprovalRule{Erasure: approveErasure, Access: approveAccess}
		return retry(err)
	}
	path := "/console/settings"
	if v.Who.Admin {
		path += "?studio=" + urlQuery(d.Studio)
	}
	return v.Redirect(path, "Settings saved.")
}
