package agent

import (
	"encoding/json"
	"errors"

	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/llm"
)

// outcomeKind says how a loop, a run or a turn ended.
type outcomeKind int

const (
	// answered: the model answered without tool calls (final holds it).
	answered outcomeKind = iota
	// paused: a tool call waits for the user's decision (pause; pend once
	// stored).
	paused
	// handedOff: the supervisor's whole answer named an agent (agent).
	handedOff
	// stopped: the user stopped the turn, left, or dismissed a sign-in; no
	// error frame is shown (err is the cause).
	stopped
	// failed: an error the user is told about (err).
	failed
	// authFailed: a sign-in failed; the user was told with <auth-error>
	// (err) and the turn ends.
	authFailed
)

// outcome is how a loop, a run or a turn ended: a value, never a signal
// hidden in a message or an error.
type outcome struct {
	kind  outcomeKind
	final string
	// agent is the agent handed off to.
	agent string
	// pause holds the calls waiting and the plan shown.
	pause *pause
	// pend is the innermost paused call, once stored: the one the next
	// prompt answers (a supervisor's pause is its parent).
	pend *pending
	err  error
}

func answer(final string) outcome { return outcome{kind: answered, final: final} }

// fail classifies an error: a stop or a disconnect ends the turn quietly,
// anything else is shown.
func fail(err error) outcome {
	if errors.Is(err, chat.ErrStopped) || errors.Is(err, chat.ErrClientGone) {
		return outcome{kind: stopped, err: err}
	}
	return outcome{kind: failed, err: err}
}

// pause is a tool executor's answer that the call waits for the user's
// decision instead of a result.
type pause struct {
	plan json.RawMessage
	// calls are the calls not run, the first one awaiting the decision;
	// set by the loop.
	calls []llm.ToolCall
	// child is set when the call delegated to an agent that paused: the
	// child's pending call, which this pause waits on.
	child *pending
}

// TurnOutcome is how a whole turn ended, as a bounded label: the
// ai_agent_turns_total{outcome} values and the invoke_agent span's
// ai_agent.outcome. A turn reports exactly one (ReportOutcome).
type TurnOutcome string

// The values of TurnOutcome; no other is ever reported.
const (
	// TurnAnswered: the answer was streamed (also a cancelled confirmation,
	// whose reply is the answer).
	TurnAnswered TurnOutcome = "ok"
	// TurnPaused: a tool call waits for the user's decision.
	TurnPaused TurnOutcome = "paused"
	// TurnFailed: the user was shown an <error> (or <chat-error>).
	TurnFailed TurnOutcome = "error"
	// TurnAuthFailed: a sign-in failed; the user was shown <auth-error>.
	TurnAuthFailed TurnOutcome = "auth_error"
	// TurnStopped: the user sent <stop> or dismissed the sign-in.
	TurnStopped TurnOutcome = "stopped"
	// TurnDisconnected: the browser went away during the turn.
	TurnDisconnected TurnOutcome = "disconnected"
	// TurnCanceled: the turn was cut short otherwise (the server shutting
	// down).
	TurnCanceled TurnOutcome = "canceled"
)

// TurnOutcomes lists every TurnOutcome.
var TurnOutcomes = []TurnOutcome{TurnAnswered, TurnPaused, TurnFailed, TurnAuthFailed, TurnStopped, TurnDisconnected, TurnCanceled}

// label is a turn's outcome as a TurnOutcome.
func (o outcome) label() TurnOutcome {
	switch o.kind {
	case answered, handedOff:
		return TurnAnswered
	case paused:
		return TurnPaused
	case authFailed:
		return TurnAuthFailed
	case failed:
		return TurnFailed
	}
	switch {
	case errors.Is(o.err, chat.ErrClientGone):
		return TurnDisconnected
	case errors.Is(o.err, chat.ErrStopped), errors.Is(o.err, ErrAuthCanceled):
		return TurnStopped
	}
	return TurnCanceled
}
