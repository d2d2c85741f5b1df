// Package web holds the HTTP plumbing every orderbus service shares: a
// server with graceful shutdown, the /healthz, /readyz and /metrics
// handlers, request logging, metrics and panic recovery middleware, RFC 9457
// problem details, and strict JSON decoding.
//
// A service starts its routes from NewRouter, which wires the middleware
// (outermost first, so that logging and metrics see the 500 that Recover
// writes for a panic) and the problem+json 404 and 405 answers:
//
//	r := web.NewRouter(logger, reg)
//	r.Method(http.MethodGet, "/healthz", web.HandleHealthz())
//	r.Method(http.MethodGet, "/readyz", web.HandleReadyz(checks))
//	r.Method(http.MethodGet, "/metrics", web.HandleMetrics(reg))
//
// A readiness check returns an error made by Degraded for a state an
// operator should see that must not take the service out of rotation (a
// consumer paused while its SMTP server is down): /readyz still answers
// 200, with the status "degraded" and the reason in its body.
//
// Handlers decode with Decode, answer with Encode, and hand every error to
// WriteError: a *Problem reaches the client as is, anything else is logged
// and answered with a generic 500 so internals never leak.
package web
