package agent

import "context"

// Observer is told of a turn's decisions where this package makes them:
// which agent the turn runs, the supervisor's pick and delegations, and
// how the turn ended. Package telemetry implements it (spans and metrics);
// it never has to work the decisions out again from frames. The methods
// are called from the turn's goroutine, in order, and must not block.
type Observer interface {
	// Routed: the turn runs agent; "" when the supervisor routes it.
	Routed(agent string)
	// Picked: the supervisor chose agent (the <agent-metadata> frame).
	Picked(agent string)
	// Delegated: the supervisor hands query to agent; DelegationEnded
	// follows when the agent's run returns.
	Delegated(agent, query string)
	DelegationEnded(agent string)
	// TurnEnded: how the turn ended, exactly once, before its </message>.
	TurnEnded(TurnOutcome)
}

type observerKey struct{}

// WithObserver returns a context for a turn whose decisions o is told of.
func WithObserver(ctx context.Context, o Observer) context.Context {
	return context.WithValue(ctx, observerKey{}, o)
}

// observerOf is the Observer of ctx, or one that ignores everything.
func observerOf(ctx context.Context) Observer {
	if o, ok := ctx.Value(observerKey{}).(Observer); ok {
		return o
	}
	return nopObserver{}
}

type nopObserver struct{}

func (nopObserver) Routed(string)            {}
func (nopObserver) Picked(string)            {}
func (nopObserver) Delegated(string, string) {}
func (nopObserver) DelegationEnded(string)   {}
func (nopObserver) TurnEnded(TurnOutcome)    {}

// ReportOutcome tells the Observer of ctx (WithObserver), if any, how the
// turn ended. Session.Turn calls it; so does a handler that answers a turn
// without running it.
func ReportOutcome(ctx context.Context, o TurnOutcome) { observerOf(ctx).TurnEnded(o) }
