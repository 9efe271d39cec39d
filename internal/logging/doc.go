// Package logging builds the agent's logger: JSON lines (or key=value text,
// LOG_FORMAT=text) through log/slog,
// behind a handler that redacts credentials. Attributes whose key names a
// secret (authorization, cookie, token, ...) are replaced wholesale, and
// Bearer/Basic credentials and R_SESS cookies are masked inside any string,
// the message included, so a stray header dump cannot leak a session.
package logging
