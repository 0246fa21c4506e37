// Package opendsr lets the privacy platforms that speak OpenDSR 2.0 (the
// protocol formerly named OpenGDPR, github.com/opengdpr/OpenDSR,
// specification.md) drive Lethe as a processor. A request received here is
// filed as one of Lethe's own requests (access and portability as access,
// erasure as erasure) through dsr.RequestService, so it runs, journals and
// is audited like any other; this package keeps only the OpenDSR side of
// it: the controller's subject_request_id, its callback URLs and which
// status the controller was last told.
//
// Responses and callbacks are signed (§7.3, §8.3, §8.6) with the key of
// LETHE_OPENDSR_KEY; the certificate of that key is served at the
// discovery's processor_certificate URL. Callbacks are sent from River jobs
// (pkg/queue) found by a scan of the state store, so a status change is
// reported even when the process stops between the change and the send.
package opendsr
