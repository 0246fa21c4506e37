package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/lethe-privacy/lethe/dsr"
	"github.com/lethe-privacy/lethe/retention"
)

// RetentionRuns is what the API needs of the sweep record: read runs, and
// queue a new one (its job inserted with it; a worker runs it).
type RetentionRuns interface {
	retention.RunReader
	// Queue records a queued run and enqueues it; ECONFLICT while another
	// real run is queued or running.
	Queue(ctx context.Context, actor string, dryRun bool) (*retention.Run, error)
}

type runJSON struct {
	*retention.Run
	Totals totalsJSON `json:"totals"`
}

// totalsJSON is a run's counts summed over collections and tenants.
type totalsJSON struct {
	RowsPurged     int64 `json:"rows_purged"`
	RowsAnonymized int64 `json:"rows_anonymized"`
	RowsRedacted   int64 `json:"rows_redacted"`
	RowsHeld       int64 `json:"rows_held"`
	FilesPurged    int64 `json:"files_purged"`
	FilesPending   int64 `json:"files_pending"`
	KeysPurged     int64 `json:"keys_purged"`
}

func toRunJSON(r *retention.Run) runJSON {
	t := r.Totals()
	return runJSON{Run: r, Totals: totalsJSON{RowsPurged: t.RowsPurged, RowsAnonymized: t.RowsAnonymized, RowsRedacted: t.RowsRedacted,
		RowsHeld: t.RowsHeld, FilesPurged: t.FilesPurged, FilesPending: t.FilesPending, KeysPurged: t.KeysPurged}}
}

type startRunBody struct {
	DryRun bool `json:"dry_run"`
}

// startRun is POST /v1/retention/runs: it queues a sweep (or a dry run)
// and answers 202 with the queued run; GET /v1/retention/runs/{id} follows it.
// An empty body is a real run.
func (s *Server) startRun(c echo.Context) error {
	var body startRunBody
	if c.Request().ContentLength != 0 {
		if err := decode(c, &body); err != nil {
			return err
		}
	}
	if s.Retention == nil {
		return dsr.NoRegistryExecutor{}.Refusal()
	}
	run, err := s.Retention.Queue(c.Request().Context(), caller(c).Actor(), body.DryRun)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/retention/runs/"+run.ID)
	return c.JSON(http.StatusAccepted, toRunJSON(run))
}

func (s *Server) getRun(c echo.Context) error {
	if s.Retention == nil {
		return dsr.Errorf(dsr.ENOTFOUND, "retention run %s not found", c.Param("id"))
	}
	run, err := s.Retention.Run(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toRunJSON(run))
}

type runListJSON struct {
	Items      []runJSON `json:"items"`
	NextCursor *string   `json:"next_cursor"`
}

func (s *Server) listRuns(c echo.Context) error {
	f := retention.RunFilter{Cursor: c.QueryParam("cursor"), Kind: c.QueryParam("kind")}
	if f.Kind != "" && f.Kind != retention.KindRetention && f.Kind != retention.KindResponses {
		return dsr.Errorf(dsr.EINVALID, "kind: %s or %s", retention.KindRetention, retention.KindResponses)
	}
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 200 {
			return dsr.Errorf(dsr.EINVALID, "limit: a whole number from 1 to 200")
		}
		f.Limit = n
	}
	out := runListJSON{Items: []runJSON{}}
	if s.Retention == nil {
		return c.JSON(http.StatusOK, out)
	}
	page, err := s.Retention.Runs(c.Request().Context(), f)
	if err != nil {
		return err
	}
	for _, r := range page.Items {
		out.Items = append(out.Items, toRunJSON(r))
	}
	if page.NextCursor != "" {
		out.NextCursor = &page.NextCursor
	}
	return c.JSON(http.StatusOK, out)
}

// lastRunJSON is part of the policy answer: when retention last ran.
type lastRunJSON struct {
	At *time.Time `json:"at"`
}
