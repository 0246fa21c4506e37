package dsr

import "context"

// CopyScope names, for an erasure, the person whose copies Lethe itself
// holds: access packages, download links, self-service rows and outbox
// addresses of the person's other requests.
type CopyScope struct {
	// RequestID is the erasure; its own rows are left to its end (its
	// closing notice still needs its outbox address).
	RequestID string
	// Tenant restricts the copies to the requests of one tenant; "" reaches
	// every tenant, as the erasure does.
	Tenant string
	// Subjects are the hashes the person's requests were filed under: the
	// current one and any a former key derivation gave.
	Subjects []Subject
}

// Copies is the erasure's reach into Lethe's own stores (GDPR Art. 17
// applies to them as to the application's): what an erasure removes after
// the application's data, and what its verification checks is gone.
type Copies interface {
	// EraseCopies deletes the scope's access packages (their links then
	// answer EGONE), cancels its requests still waiting for a code and
	// removes the self-service rows and outbox addresses of its ended
	// requests. It returns what it removed, by "lethe.<what>", and is
	// idempotent.
	EraseCopies(ctx context.Context, s CopyScope) (map[string]int64, error)
	// FindCopies returns what is still held of the scope, by
	// "lethe.<what>": packages in the export store, clear addresses and
	// frozen keys in the state store. Empty when nothing is left.
	FindCopies(ctx context.Context, s CopyScope) (map[string]int64, error)
}
