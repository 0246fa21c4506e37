package main

import (
	"net"
	"time"
)

// serveOptions are lethe serve's settings that need parsing, checked
// before anything is opened so that a mistyped one fails fast.
type serveOptions struct {
	responsesEvery time.Duration
	// auditVerifyEvery paces the leader's verification of the audit chain.
	auditVerifyEvery time.Duration
	heartbeat        time.Duration
	proxies          []*net.IPNet
	// publicURL is LETHE_PUBLIC_URL or its fallback; "" means the listen
	// address, known once listening.
	publicURL string
}

// checkServe checks cfg for lethe serve. Errors: usage errors naming the
// variable to change (subject key, durations, proxies, public URL).
func checkServe(cfg Config, demo bool) (serveOptions, error) {
	var o serveOptions
	var err error
	if err = cfg.checkSubjectKey(); err != nil {
		return o, err
	}
	if err = cfg.HTTP.validate(); err != nil {
		return o, err
	}
	if o.responsesEvery, err = cfg.responsesEvery(); err != nil {
		return o, err
	}
	if o.auditVerifyEvery, err = cfg.auditVerifyEvery(); err != nil {
		return o, err
	}
	if o.heartbeat, err = cfg.heartbeat(); err != nil {
		return o, err
	}
	if o.proxies, err = cfg.trustedProxies(); err != nil {
		return o, err
	}
	if o.publicURL, err = cfg.publicURL(demo); err != nil {
		return o, err
	}
	return o, cfg.checkPrevious()
}
