// Package guard holds the route guards as plain middleware: SameSite (the
// browser-trust check against cross-site WebSocket hijacking and CSRF),
// SignedIn (a Rancher user) and Admin (a user who may configure agents).
// The owner of a route wraps its own handler with the guard it needs, where
// the route is defined (package oauth's handlers, the model list of
// cmd/ai-agent, package server's own routes), so renaming a route keeps its
// guard. The checks themselves are the server's: it puts its Checks in each
// request's context (WithChecks); a guarded handler reached without them
// refuses the request (fail closed). Of reports the guards a handler
// carries, for the test that walks every mounted route.
package guard
