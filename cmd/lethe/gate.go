package main

import (
	"github.com/lethe-privacy/lethe/dsr"
)

// newGate builds the review gate: the registry's approval: section (none
// without a registry), each studio's own choice in its settings, and the
// engine's plan attached to every held request.
func newGate(app *appStores, svc *services) *dsr.Gate {
	g := &dsr.Gate{Studios: svc.Settings}
	if app == nil {
		return g
	}
	a := app.Registry.Approval
	g.Registry, g.Plan = dsr.ApprovalRule{Erasure: a.Erasure, Access: a.Access}, app.Engine.PlanJSON
	return g
}
