package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

// newHealthcheckCmd is "lethe healthcheck": GET /healthz of the lethe
// serve listening on --addr, exit 0 on 200 and 1 otherwise. It is the
// image's HEALTHCHECK, which has no shell and no curl to run.
func newHealthcheckCmd(c *cli) *cobra.Command {
	var addr string
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "healthcheck [--addr HOST:PORT]",
		Short: "Exit 0 when the lethe serve at --addr answers /healthz with 200, else 1",
		Long: `GET http://ADDR/healthz of a running lethe serve and exit 0 when it answers
200, 1 otherwise (not listening, another status, no answer within --timeout).
It reads the same LETHE_ADDR as lethe serve; an address on every interface
(0.0.0.0, ::, or none as in :8080) is reached on 127.0.0.1. It is the image's
HEALTHCHECK: Docker takes 0 as healthy and 1 as unhealthy.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			url, err := healthURL(addr)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return fmt.Errorf("%w: %v", errFailed, err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return fmt.Errorf("%w: %v", errFailed, err)
			}
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%w: GET %s answered %s", errFailed, url, resp.Status)
			}
			fmt.Fprintf(c.stdout, "ok: GET %s answered %s\n", url, resp.Status)
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address lethe serve listens on")
	bindEnv(cmd.Flags(), "addr", "LETHE_ADDR")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "longest wait for the answer")
	return cmd
}

// healthURL is the /healthz URL of a server listening on addr: an
// unspecified host (0.0.0.0, ::, empty) becomes 127.0.0.1. Errors: a
// failure (exit 1, as Docker expects of a health check, not 2) when addr
// is no host:port.
func healthURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" || port == "0" {
		return "", fmt.Errorf("%w: LETHE_ADDR (or --addr) %q: give the HOST:PORT lethe serve listens on, such as 0.0.0.0:8080", errFailed, addr)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/healthz", nil
}
