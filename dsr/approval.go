package dsr

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/pkg/redact"
)

// ApprovalRule says which requests the review gate holds in
// StatusAwaitingApproval until an owner or the admin approves them.
type ApprovalRule struct {
	Erasure bool `json:"erasure"`
	Access  bool `json:"access"`
}

// Requires reports whether a request of type t waits for approval.
func (a ApprovalRule) Requires(t Type) bool {
	return (t == TypeErasure && a.Erasure) || (t == TypeAccess && a.Access)
}

// Or returns the rule that holds what either a or b holds: a studio may
// add to the registry's rule, never lift it.
func (a ApprovalRule) Or(b ApprovalRule) ApprovalRule {
	return ApprovalRule{Erasure: a.Erasure || b.Erasure, Access: a.Access || b.Access}
}

// StudioApproval reads the rule a studio chose in its settings.
type StudioApproval interface {
	// StudioApproval returns tenant's own rule; the zero rule for a
	// tenant that never chose one.
	StudioApproval(ctx context.Context, tenant string) (ApprovalRule, error)
}

// PlanFunc returns, as JSON, what a request for email within tenant would
// touch: the plan a reviewer weighs. The registry engine answers it.
type PlanFunc func(ctx context.Context, email, tenant string) (json.RawMessage, error)

// Review is what the review gate keeps on a request it held.
type Review struct {
	// Plan is the plan computed when the request was filed (JSON of the
	// engine's plan: counts per collection and files).
	Plan json.RawMessage
	// ApprovedBy and ApprovedAt name who let the request run, and when;
	// empty while it waits or once it was denied.
	ApprovedBy string
	ApprovedAt *time.Time
}

// Gate is the review gate: at filing it decides whether a request waits
// for approval and, when it does, attaches its plan.
type Gate struct {
	// Registry is the rule of the registry's approval: section, for
	// every tenant and for requests across all tenants.
	Registry ApprovalRule
	// Studios adds each studio's own rule; nil for the registry's only.
	Studios StudioApproval
	// Plan computes the attached plan; nil attaches an empty one.
	Plan PlanFunc
}

// Rule returns the rule that applies to tenant: the registry's, and the
// studio's when tenant is not "".
func (g *Gate) Rule(ctx context.Context, tenant string) (ApprovalRule, error) {
	if g == nil {
		return ApprovalRule{}, nil
	}
	rule := g.Registry
	if tenant != "" && g.Studios != nil {
		own, err := g.Studios.StudioApproval(ctx, tenant)
		if err != nil {
			return ApprovalRule{}, err
		}
		rule = rule.Or(own)
	}
	return rule, nil
}

// Hold returns the review of a request of type t for email within tenant
// when the gate holds it, and nil when it runs at once. Errors: reading
// the studio's rule, or computing the plan (EUNAVAILABLE when a store
// cannot be reached), so that a held request always carries its plan.
// A request without an email (filed by another identity) is held by the
// same rule, with an empty plan.
func (g *Gate) Hold(ctx context.Context, t Type, email, tenant string) (*Review, error) {
	rule, err := g.Rule(ctx, tenant)
	if err != nil || !rule.Requires(t) {
		return nil, err
	}
	plan := json.RawMessage(`{}`)
	if g.Plan != nil && email != "" {
		if plan, err = g.Plan(ctx, email, tenant); err != nil {
			return nil, err
		}
	}
	return &Review{Plan: plan}, nil
}

// MaxDenialReason bounds the reason of a denial, which the person reads.
const MaxDenialReason = 1000

var emailInTextRE = regexp.MustCompile(`[^\s@<>()]+@[^\s@<>()]+\.[^\s@<>()]+`)

// CheckDenialReason trims reason and returns it, or EUNPROCESSABLE when it
// is empty, too long, or holds an email address, a phone number, an IBAN
// or a card number: the reason is mailed to the person and kept for good
// in the audit trail, which holds no personal data.
func CheckDenialReason(reason string) (string, error) {
	return checkReason(reason, "denied")
}

// CheckCancelReason is CheckDenialReason for the reason of a
// cancellation, which the person is told too.
func CheckCancelReason(reason string) (string, error) {
	return checkReason(reason, "cancelled")
}

// checkReason checks the reason a request is ended with (what: denied,
// cancelled); see CheckDenialReason.
func checkReason(reason, what string) (string, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return "", Errorf(EUNPROCESSABLE, "reason: required; say why the request is %s: the person is told", what)
	case len(reason) > MaxDenialReason:
		return "", Errorf(EUNPROCESSABLE, "reason: at most %d characters", MaxDenialReason)
	case emailInTextRE.MatchString(reason):
		return "", Errorf(EUNPROCESSABLE, "reason: leave email addresses out; the request already names the person")
	}
	for _, sp := range redact.Detect(reason) {
		if what, ok := reasonDetected[sp.Kind]; ok {
			return "", Errorf(EUNPROCESSABLE, "reason: leave %s out; the reason is kept for good in the audit trail", what)
		}
	}
	return reason, nil
}

// reasonDetected names, in plain words, the personal data a reason may not
// hold, by the kind pkg/redact finds it as.
var reasonDetected = map[redact.Kind]string{
	redact.Email: "email addresses",
	redact.Phone: "phone numbers",
	redact.IBAN:  "bank account numbers",
	redact.Card:  "card numbers",
}
