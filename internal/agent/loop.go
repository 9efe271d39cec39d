package agent

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/rancher/ai-agent/internal/chat"
	"github.com/rancher/ai-agent/internal/llm"
	"github.com/rancher/ai-agent/internal/modeltext"
)

// StopReply is the tool result of a call that the user stopped.
const StopReply = "Execution stopped by the user."

// ErrStepLimit is returned when a loop reaches MaxSteps model calls.
var ErrStepLimit = errors.New("step limit reached")

// textSink receives the model's text deltas of one call.
type textSink interface {
	write(ctx context.Context, delta string) error
	// end is called after each model call with whether tool calls came; a
	// non-empty handoff means the answer was a routing choice (an agent's
	// name) and ends the loop.
	end(ctx context.Context, toolCalls bool) (handoff string, err error)
}

// streamSink forwards every delta as its own frame, neutralized (package
// modeltext: model text reaches the browser only as text; a tag split
// across deltas is held until it can be decided).
type streamSink struct {
	em chat.Emitter
	n  *modeltext.Stream
}

func (s streamSink) write(ctx context.Context, d string) error {
	return sendText(ctx, s.em, s.n.Write(d))
}
func (s streamSink) end(ctx context.Context, _ bool) (string, error) {
	return "", sendText(ctx, s.em, s.n.Flush())
}

// sendText sends neutralized model text; nothing when it is all held.
func sendText(ctx context.Context, em chat.Emitter, text string) error {
	if text == "" {
		return nil
	}
	return em.Send(ctx, text)
}

// discardSink drops deltas (child agents: their tokens are not streamed).
type discardSink struct{}

func (discardSink) write(context.Context, string) error       { return nil }
func (discardSink) end(context.Context, bool) (string, error) { return "", nil }

// toolExec runs one tool call and returns its result message, or a pause
// when the call waits for the user's decision.
type toolExec func(ctx context.Context, call llm.ToolCall) (llm.Message, *pause)

// loopSpec is one run of the model <-> tools loop.
type loopSpec struct {
	Purpose string
	Model   string
	System  string
	Tools   []llm.Tool
	// History is the thread so far; Input the new messages (usually one user
	// message). New messages are appended to Input's copy and returned.
	History []llm.Message
	Input   []llm.Message
	Sink    textSink
	Exec    toolExec
}

// loopResult is what a loop produced.
type loopResult struct {
	// New holds the messages this loop added after the Input, always
	// consistent: every tool call has a result, even when the loop stopped,
	// except the calls of a pause (out.pend), which the pause record holds.
	New   []llm.Message
	Usage llm.Usage
	out   outcome
}

// runLoop calls the model, runs tool calls, feeds results back, until the
// model answers without tool calls or MaxSteps is reached. A paused loop's
// outcome has its pause but no pend yet: the caller stores the pause.
func (s *Session) runLoop(ctx context.Context, spec loopSpec) loopResult {
	var res loopResult
	convo := make([]llm.Message, 0, len(spec.History)+len(spec.Input)+8)
	if spec.System != "" {
		convo = append(convo, llm.Message{Role: llm.RoleSystem, Content: spec.System})
	}
	convo = append(convo, spec.History...)
	convo = append(convo, spec.Input...)
	for step := 0; step < s.r.o.MaxSteps; step++ {
		if ctx.Err() != nil {
			res.out = fail(context.Cause(ctx))
			return res
		}
		text, calls, usage, err := s.callModel(ctx, spec, convo)
		res.Usage.InputTokens += usage.InputTokens
		res.Usage.OutputTokens += usage.OutputTokens
		if err != nil {
			if text != "" {
				res.New = append(res.New, llm.Message{Role: llm.RoleAssistant, Content: text})
			}
			if ctx.Err() != nil {
				err = context.Cause(ctx)
			}
			res.out = fail(err)
			return res
		}
		msg := llm.Message{Role: llm.RoleAssistant, Content: text, ToolCalls: calls}
		convo = append(convo, msg)
		res.New = append(res.New, msg)
		handoff, err := spec.Sink.end(ctx, len(calls) > 0)
		switch {
		case err != nil:
			res.out = fail(err)
			return res
		case handoff != "":
			res.New = res.New[:len(res.New)-1]
			res.out = outcome{kind: handedOff, agent: handoff}
			return res
		case len(calls) == 0:
			res.out = answer(text)
			return res
		}
		for i, call := range calls {
			if ctx.Err() != nil {
				res.New = append(res.New, stoppedResults(calls[i:], context.Cause(ctx))...)
				res.out = fail(context.Cause(ctx))
				return res
			}
			out, p := spec.Exec(ctx, call)
			if p != nil {
				p.calls = calls[i:]
				res.out = outcome{kind: paused, pause: p}
				return res
			}
			out.Role, out.ToolCallID = llm.RoleTool, call.ID
			convo = append(convo, out)
			res.New = append(res.New, out)
		}
	}
	res.out = fail(fmt.Errorf("%w: Recursion limit of %d reached without hitting a stop condition", ErrStepLimit, s.r.o.MaxSteps))
	return res
}

// stoppedResults answers the calls that never ran, so the thread stays valid
// for the next model call.
func stoppedResults(calls []llm.ToolCall, cause error) []llm.Message {
	reason := StopReply
	if !errors.Is(cause, chat.ErrStopped) {
		reason = "Tool call not run: " + errText(cause)
	}
	out := make([]llm.Message, 0, len(calls))
	for _, c := range calls {
		out = append(out, llm.Message{Role: llm.RoleTool, ToolCallID: c.ID, Content: reason, IsError: true})
	}
	return out
}

// callModel runs one model call, sending text deltas to the sink.
func (s *Session) callModel(ctx context.Context, spec loopSpec, convo []llm.Message) (string, []llm.ToolCall, llm.Usage, error) {
	req := llm.Request{Model: spec.Model, Messages: convo, Tools: spec.Tools, Purpose: spec.Purpose}
	var (
		text  []byte
		calls []llm.ToolCall
		usage llm.Usage
	)
	for ev, err := range s.r.o.Model.Stream(ctx, req) {
		if err != nil {
			return string(text), nil, usage, fmt.Errorf("model: %w", err)
		}
		switch {
		case ev.Text != "":
			text = append(text, ev.Text...)
			if err := spec.Sink.write(ctx, ev.Text); err != nil {
				return string(text), nil, usage, err
			}
		case ev.ToolCall != nil:
			c := *ev.ToolCall
			if c.ID == "" {
				c.ID = "call_" + strconv.Itoa(len(calls))
			}
			if len(c.Arguments) == 0 {
				c.Arguments = []byte("{}")
			}
			calls = append(calls, c)
		case ev.Usage != nil:
			usage.InputTokens += ev.Usage.InputTokens
			usage.OutputTokens += ev.Usage.OutputTokens
		}
	}
	if err := context.Cause(ctx); ctx.Err() != nil {
		return string(text), nil, usage, err
	}
	return string(text), calls, usage, nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
