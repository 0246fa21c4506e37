package registry

// Approval is the top-level approval: section: which requests wait for
// an owner or the admin to approve them before they run, in every tenant
// (a studio may add to it in its settings, never lift it).
type Approval struct {
	Erasure bool `yaml:"erasure,omitempty"`
	Access  bool `yaml:"access,omitempty"`
}

// approvalOf returns the section as written, nil when absent.
func approvalOf(f *Approval) Approval {
	if f == nil {
		return Approval{}
	}
	return *f
}

// fileApproval is the canonical form of a: nil when nothing is held.
func fileApproval(a Approval) *Approval {
	if a == (Approval{}) {
		return nil
	}
	return &a
}
