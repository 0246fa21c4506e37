// Package api is Lethe's HTTP interface (echo): JSON over bearer tokens, one
// error shape ({"error":{"code","message"}}) mapped from dsr error codes by
// a single handler, Prometheus metrics and the OpenAPI document. Handlers
// only translate: the work is done by the dsr services they are given.
package api
