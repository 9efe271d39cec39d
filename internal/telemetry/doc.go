// Package telemetry is the agent's traces and metrics, added from outside
// the packages it observes: decorators around llm.Model (a `chat <model>`
// span and the model metrics per call), around agent.ToolProvider (an
// `execute_tool <tool>` span and the tool metrics per MCP call), around
// chat.Handler (an `invoke_agent <agent>` span and the turn metrics per
// prompt), an oauth.Observer (`oauth.signin`, `oauth.refresh`) and a
// server.ConnObserver (the WebSocket gauge).
//
// Nothing here is global: the Prometheus registry and the OpenTelemetry
// TracerProvider are passed to New; the otel global providers are never
// read or set.
//
// Spans follow the OpenTelemetry GenAI semantic conventions
// (gen_ai.operation.name, gen_ai.provider.name, gen_ai.request.model,
// gen_ai.usage.input_tokens, gen_ai.usage.output_tokens, gen_ai.tool.name,
// gen_ai.agent.name, gen_ai.conversation.id); the user is a truncated
// SHA-256 of the Rancher user id (enduser.pseudo.id). Prompt text, model
// output and tool arguments are recorded only when CaptureContent is set
// (OTEL_GENAI_CAPTURE_CONTENT=true); tokens and secrets never.
//
// Package agent tells the turn's scope of its decisions (it implements
// agent.Observer, set with agent.WithObserver): the agent the turn runs
// (the span's and metrics' name), the supervisor's pick, and each
// delegation to a child agent, between whose start and end model and tool
// spans that would hang off the turn span hang off the delegation's
// `execute_tool <agent>` span instead (see scope.parent). Nothing here
// reads a frame but the turn's </message>, which ends the turn's span.
//
// A turn's outcome label (ai_agent_turns_total, the invoke_agent span's
// ai_agent.outcome) is the typed agent.TurnOutcome that package agent
// reports to the Observer (TurnEnded): ok, paused,
// error, auth_error, stopped, disconnected or canceled; never a value read
// from the frames.
//
// Files: telemetry.go (New, metrics, the /metrics handler), setup.go (the
// TracerProvider from OTEL_* and LANGFUSE_* variables), turn.go, model.go,
// tools.go, oauth.go (the decorators).
package telemetry
