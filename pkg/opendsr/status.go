package opendsr

import (
	"context"
	"crypto/hmac"
	"strconv"
	"strings"
	"time"

	"github.com/lethe-privacy/lethe/dsr"
)

// Status answers GET /requests/{id} (§8.3) for caller c. ENOTFOUND for an
// id that does not exist or that c may not see.
func (s *Service) Status(ctx context.Context, c dsr.Caller, id string) (*Status, error) {
	rec, err := s.visible(ctx, c, id)
	if err != nil {
		return nil, err
	}
	st, req, err := s.current(ctx, rec)
	if err != nil {
		return nil, err
	}
	return s.body(ctx, rec, req, StatusOf(st)), nil
}

// current returns the Lethe status of rec's request, and the request;
// completed and nil when a hashed identity matched nobody.
func (s *Service) current(ctx context.Context, rec *Record) (dsr.Status, *dsr.Request, error) {
	if rec.RequestID == "" {
		return dsr.StatusCompleted, nil, nil
	}
	req, err := s.Requests.Get(ctx, dsr.Caller{Admin: true}, rec.RequestID)
	if err != nil {
		return "", nil, err
	}
	return req.Status, req, nil
}

// body is the status of rec as status, with the results of a completed
// access or portability request: how many records were found and, while
// its package lasts, an expiring link to it.
func (s *Service) body(ctx context.Context, rec *Record, req *dsr.Request, status string) *Status {
	out := &Status{ControllerID: rec.ControllerID, ExpectedCompletionTime: rec.ExpectedAt,
		SubjectRequestID: rec.SubjectRequestID, RequestStatus: status, APIVersion: s.version(rec)}
	if status != StatusCompleted || rec.Type == TypeErasure {
		return out
	}
	var n int64
	if req != nil {
		for _, v := range req.Counts {
			n += v
		}
	}
	out.ResultsCount = &n
	if req != nil && s.Exports != nil {
		if exp, err := s.Exports.GetExport(ctx, req.ID); err == nil && exp.DeletedAt == nil && s.Now().Before(exp.ExpiresAt) {
			out.ResultsURL = s.resultsURL(rec.SubjectRequestID, exp.ExpiresAt)
		}
	}
	return out
}

func (s *Service) version(rec *Record) string {
	if rec.Legacy {
		return LegacyAPIVersion
	}
	return APIVersion
}

// Cancel cancels a pending request (§9). ENOTFOUND as Status; EINVALID
// (the specification's 400) once the request is in progress or ended.
func (s *Service) Cancel(ctx context.Context, c dsr.Caller, id string) (*Cancelled, error) {
	rec, err := s.visible(ctx, c, id)
	if err != nil {
		return nil, err
	}
	out := &Cancelled{ControllerID: rec.ControllerID, ReceivedTime: s.Now().UTC().Truncate(time.Second),
		SubjectRequestID: rec.SubjectRequestID, APIVersion: s.version(rec)}
	if rec.RequestID == "" {
		return nil, invalid("the request is completed; only a pending request can be cancelled")
	}
	if _, err := s.Requests.Cancel(ctx, dsr.Caller{Admin: true}, rec.RequestID, "The controller withdrew it (OpenDSR)."); dsr.ErrorCode(err) == dsr.ECONFLICT {
		st, _, lerr := s.current(ctx, rec)
		if lerr != nil {
			return nil, lerr
		}
		return nil, invalid("the request is " + StatusOf(st) + "; only a pending request can be cancelled")
	} else if err != nil {
		return nil, err
	}
	return out, nil
}

// ResultsPath is the route of results links: /opendsr/v2/results/{id}.
const ResultsPath = "/opendsr/v2/results/"

// resultsURL is a link to the package of request id that works until
// expires without a token: the controller may hand it to the person. It is
// keyed with the subject key, so it cannot be forged or extended.
func (s *Service) resultsURL(id string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	return strings.TrimRight(s.PublicURL, "/") + ResultsPath + id + "?expires=" + exp + "&sig=" + s.linkSig(id, exp)
}

func (s *Service) linkSig(id, exp string) string {
	return s.Links.Sign("opendsr-results", []byte(id+"\x00"+exp))
}

// Results returns Lethe's request id behind a results link. ENOTFOUND for
// a link that was not issued; EGONE for one past its time.
func (s *Service) Results(ctx context.Context, id, expires, sig string) (string, error) {
	if !ValidID(id) || !hmac.Equal([]byte(sig), []byte(s.linkSig(id, expires))) {
		return "", dsr.Errorf(dsr.ENOTFOUND, "this results link does not exist")
	}
	exp, err := strconv.ParseInt(expires, 10, 64)
	if err != nil {
		return "", dsr.Errorf(dsr.ENOTFOUND, "this results link does not exist")
	}
	if !s.Now().Before(time.Unix(exp, 0)) {
		return "", dsr.Errorf(dsr.EGONE, "this results link has expired; the package is deleted")
	}
	rec, err := s.Store.Get(ctx, id)
	if err != nil {
		return "", err
	}
	if rec.RequestID == "" {
		return "", dsr.Errorf(dsr.ENOTFOUND, "this request has no results")
	}
	return rec.RequestID, nil
}
