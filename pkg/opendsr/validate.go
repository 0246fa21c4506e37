package opendsr

import (
	"encoding/hex"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
)

// identityTypes are the identity type keys of §5.1; a request naming any
// other is malformed. Lethe acts on email only; the others are accepted
// beside an email and ignored.
var identityTypes = []string{"controller_customer_id", "android_advertising_id", "android_id", "email",
	"fire_advertising_id", "ios_advertising_id", "ios_vendor_id", "microsoft_advertising_id",
	"microsoft_publisher_id", "roku_publisher_id", "roku_advertising_id"}

// identityFormats are the formats of §5.2.
var identityFormats = []string{"raw", "sha1", "md5", "sha256"}

// uuidV4 is a lowercase version 4 UUID (§1.1: GUIDs MUST be lowercase v4).
var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// maxCallbacks bounds status_callback_urls: each status change sends one
// callback to each.
const maxCallbacks = 5

// ValidID reports whether id is a lowercase UUID v4.
func ValidID(id string) bool { return uuidV4.MatchString(id) }

// validate checks in against §7.1.1 and returns an EINVALID *dsr.Error that
// names the field, never an identity's value. legacy relaxes what OpenGDPR
// 1.0 did not have: regulation.
func validate(in *NewRequest, legacy bool) error {
	switch {
	case in.SubjectRequestID == "":
		return invalid("subject_request_id field is required")
	case !ValidID(in.SubjectRequestID):
		return invalid("subject_request_id must be a lowercase UUID v4")
	case in.Type == "":
		return invalid("subject_request_type field is required")
	case in.Type != TypeAccess && in.Type != TypePortability && in.Type != TypeErasure:
		return invalid(`subject_request_type must be "access", "portability" or "erasure"`)
	case in.SubmittedTime == "":
		return invalid("submitted_time field is required")
	}
	if _, err := time.Parse(time.RFC3339, in.SubmittedTime); err != nil {
		return invalid("submitted_time must be an RFC 3339 date such as 2018-10-02T15:00:00Z")
	}
	switch {
	case in.Regulation == "" && !legacy:
		return invalid("regulation field is required")
	case in.Regulation != "" && in.Regulation != "gdpr" && in.Regulation != "ccpa":
		return invalid(`regulation must be "gdpr" or "ccpa"`)
	}
	if in.APIVersion != "" {
		want := "2"
		if legacy {
			want = "1"
		}
		if major, _, _ := strings.Cut(in.APIVersion, "."); major != want {
			return invalid("api_version " + quote(in.APIVersion) + " is not supported on this route; send " + want + ".0")
		}
	}
	if len(in.Identities) == 0 {
		return invalid("subject_identities field is required")
	}
	for i, id := range in.Identities {
		where := "subject_identities[" + strconv.Itoa(i) + "]"
		switch {
		case id.Type == "":
			return invalid(where + ".identity_type field is required")
		case !slices.Contains(identityTypes, id.Type):
			return invalid(where + ".identity_type " + quote(id.Type) + " is not an identity type of the specification")
		case id.Format == "":
			return invalid(where + ".identity_format field is required")
		case !slices.Contains(identityFormats, id.Format):
			return invalid(where + ".identity_format " + quote(id.Format) + " is not raw, sha1, md5 or sha256")
		case strings.TrimSpace(id.Value) == "":
			return invalid(where + ".identity_value field is required")
		case id.Type == "email" && id.Format == "sha256" && !isSHA256(id.Value):
			return invalid(where + ".identity_value must be 64 hexadecimal digits: the SHA-256 of the lower-cased address")
		}
	}
	if !slices.ContainsFunc(in.Identities, supported) {
		return invalid("subject_identities: no supported identity; send an email identity in format raw or sha256")
	}
	if len(in.CallbackURLs) > maxCallbacks {
		return invalid("status_callback_urls: at most " + strconv.Itoa(maxCallbacks) + " URLs")
	}
	for i, u := range in.CallbackURLs {
		if err := CheckCallbackURL(u); err != nil {
			return invalid("status_callback_urls[" + strconv.Itoa(i) + "] " + dsr.ErrorMessage(err))
		}
	}
	return nil
}

// supported reports whether Lethe acts on identity id.
func supported(id Identity) bool {
	return id.Type == "email" && (id.Format == "raw" || id.Format == "sha256")
}

func isSHA256(v string) bool {
	b, err := hex.DecodeString(v)
	return err == nil && len(b) == 32
}

// CheckCallbackURL refuses a callback URL that is not absolute http(s)
// with a host, or that carries user information: Lethe POSTs to it.
func CheckCallbackURL(raw string) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || len(raw) > 2048:
		return dsr.Errorf(dsr.EINVALID, "is not a URL")
	case u.Scheme != "http" && u.Scheme != "https":
		return dsr.Errorf(dsr.EINVALID, "must be an http or https URL")
	case u.Host == "" || u.Hostname() == "":
		return dsr.Errorf(dsr.EINVALID, "must name a host")
	case u.User != nil:
		return dsr.Errorf(dsr.EINVALID, "must not carry a user name or password")
	}
	return nil
}

func invalid(msg string) error { return dsr.Errorf(dsr.EINVALID, "%s", msg) }

func quote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return `"` + s + `"`
}
