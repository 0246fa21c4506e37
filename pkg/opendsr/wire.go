package opendsr

import (
	"encoding/json"
	"time"
)

// APIVersion is the version of the specification Lethe implements;
// LegacyAPIVersion is what the OpenGDPR routes answer (§10.1).
const (
	APIVersion       = "2.0"
	LegacyAPIVersion = "1.0"
)

// Request statuses (§8). Lethe's own statuses map onto them in StatusOf.
const (
	StatusPending    = "pending"
	StatusInProgress = "in_progress"
	StatusCompleted  = "completed"
	StatusCancelled  = "cancelled"
)

// Subject request types (§6.2).
const (
	TypeAccess      = "access"
	TypePortability = "portability"
	TypeErasure     = "erasure"
)

// Identity is an identity object (§5.3).
type Identity struct {
	Type   string `json:"identity_type"`
	Value  string `json:"identity_value,omitempty"`
	Format string `json:"identity_format"`
}

// NewRequest is the body of POST /requests (§7.1.1). Unknown fields are
// accepted, as later minor versions may add some.
type NewRequest struct {
	Regulation       string                     `json:"regulation"`
	SubjectRequestID string                     `json:"subject_request_id"`
	Type             string                     `json:"subject_request_type"`
	SubmittedTime    string                     `json:"submitted_time"`
	Identities       []Identity                 `json:"subject_identities"`
	APIVersion       string                     `json:"api_version"`
	CallbackURLs     []string                   `json:"status_callback_urls"`
	Extensions       map[string]json.RawMessage `json:"extensions"`
}

// Created is the answer to POST /requests (§7.3).
type Created struct {
	ControllerID           string    `json:"controller_id"`
	ExpectedCompletionTime time.Time `json:"expected_completion_time"`
	ReceivedTime           time.Time `json:"received_time"`
	EncodedRequest         string    `json:"encoded_request"`
	SubjectRequestID       string    `json:"subject_request_id"`
	ProcessorSignature     string    `json:"processor_signature,omitempty"`
}

// Status is the answer to GET /requests/{id} (§8.3) and, with
// StatusCallbackURL, the body of a callback (§8.6).
type Status struct {
	ControllerID           string    `json:"controller_id"`
	ExpectedCompletionTime time.Time `json:"expected_completion_time"`
	StatusCallbackURL      string    `json:"status_callback_url,omitempty"`
	SubjectRequestID       string    `json:"subject_request_id"`
	RequestStatus          string    `json:"request_status"`
	APIVersion             string    `json:"api_version,omitempty"`
	ResultsURL             string    `json:"results_url,omitempty"`
	ResultsCount           *int64    `json:"results_count,omitempty"`
}

// Cancelled is the answer to DELETE /requests/{id} (§9.2).
type Cancelled struct {
	ControllerID       string    `json:"controller_id"`
	ReceivedTime       time.Time `json:"received_time"`
	SubjectRequestID   string    `json:"subject_request_id"`
	ProcessorSignature string    `json:"processor_signature,omitempty"`
	APIVersion         string    `json:"api_version,omitempty"`
}

// IdentityFormat is one supported identity_type and identity_format pair.
type IdentityFormat struct {
	Type   string `json:"identity_type"`
	Format string `json:"identity_format"`
}

// Discovery is the answer to GET /discovery (§6.3).
type Discovery struct {
	APIVersion            string           `json:"api_version"`
	SupportedIdentities   []IdentityFormat `json:"supported_identities"`
	SupportedRequestTypes []string         `json:"supported_subject_request_types"`
	ProcessorCertificate  string           `json:"processor_certificate"`
}

// ErrorBody is the error shape of §7.5–7.7: code is the HTTP status.
type ErrorBody struct {
	Error ErrorObject `json:"error"`
}

// ErrorObject is the error object of §7.6.
type ErrorObject struct {
	Code    int           `json:"code"`
	Message string        `json:"message"`
	Errors  []ErrorDetail `json:"errors"`
}

// ErrorDetail is one entry of ErrorObject.Errors.
type ErrorDetail struct {
	Domain  string `json:"domain"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}
