package oauth

import (
	"context"
	"log/slog"
	"strings"

	"github.com/rancher/ai-agent/internal/store"
)

// Audited events (AuditEvent.Event). A failed refresh is a refresh whose
// result is not OutcomeOK.
const (
	OpRevoke      = "revocation"
	OpAdminRevoke = "admin_revocation"
)

// ActorSystem is AuditEvent.Actor when the agent acted by itself (the
// sweep: an agent deleted or moved to another authorization server, a
// Rancher user gone).
const ActorSystem = "system"

// AuditEvent is one line of the audit trail. It names who and what, never
// a token.
type AuditEvent struct {
	Event  string // OpSignIn, OpRefresh, OpRevoke, OpAdminRevoke
	User   string // whose tokens
	Agent  string
	Issuer string
	// Actor is who acted: the user, an administrator's user ID, or
	// ActorSystem.
	Actor  string
	Result string // an Outcome*, or for revocations "revoked" / "deleted_locally"
	Reason string // why, for a revocation by the system or a local-only one
}

// Auditor is implemented by an Observer that also counts audited events
// (telemetry: ai_agent_oauth_events_total{event,result}).
type Auditor interface {
	Audit(ctx context.Context, e AuditEvent)
}

// Revocation results.
const (
	ResultRevoked        = "revoked"
	ResultDeletedLocally = "deleted_locally"
)

// audit writes the event's structured log line ("audit": true) and tells
// the Observer, when it is an Auditor.
func (s *Service) audit(ctx context.Context, e AuditEvent) {
	attrs := []slog.Attr{slog.Bool("audit", true), slog.String("event", e.Event), slog.String("user", shownUser(e.User)),
		slog.String("agent", shownAgent(e.Agent)), slog.String("issuer", e.Issuer), slog.String("actor", shownUser(e.Actor)),
		slog.String("result", e.Result)}
	if e.Reason != "" {
		attrs = append(attrs, slog.String("reason", e.Reason))
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "oauth audit", attrs...)
	if a, ok := s.o.Observer.(Auditor); ok {
		a.Audit(ctx, e)
	}
}

// observeKey is observe for the tokens of key, acting as actor: the span
// and outcome of observe, and one audit line.
func (s *Service) observeKey(ctx context.Context, op string, key TokenKey, actor string) (context.Context, func(error)) {
	ctx, end := s.observe(ctx, op, key.Agent)
	return ctx, func(err error) {
		end(err)
		s.audit(ctx, AuditEvent{Event: op, User: key.User, Agent: key.Agent, Issuer: key.Issuer, Actor: actor, Result: outcomeOf(ctx, err)})
	}
}

// shownUser names the reserved user of agent-wide tokens readably.
func shownUser(u string) string {
	if u == agentUser {
		return "(agent)"
	}
	return u
}

func shownAgent(a string) string {
	if a == idpAgent {
		return "(enterprise identity provider)"
	}
	return a
}

// The store's clear columns cannot hold the NUL byte of the reserved user
// and agent names (agentUser, idpAgent): they are kept with a "!" instead,
// which no Rancher user ID or Kubernetes name starts with.
func toColumn(s string) string { return strings.Replace(s, "\x00", "!", 1) }
func fromColumn(s string) string {
	if strings.HasPrefix(s, "!") {
		return "\x00" + s[1:]
	}
	return s
}

// ref is the clear part of k the store indexes.
func (k TokenKey) ref() store.TokenRef {
	return store.TokenRef{User: toColumn(k.User), Agent: toColumn(k.Agent), Issuer: k.Issuer}
}

// keyOf is the TokenKey of an indexed row.
func keyOf(r store.TokenRow) TokenKey {
	return TokenKey{User: fromColumn(r.User), Agent: fromColumn(r.Agent), Issuer: r.Issuer}
}
