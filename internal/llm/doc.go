// Package llm defines the Model interface the agent loop talks to, the
// messages it exchanges, and the scripted model: a provider that plays back a
// queue of canned responses (text chunks, tool calls) so that tests and the
// demo run with no outside service. The scripted model also serves the
// push/clear control API of rancher-ai-llm-mock, so one script format works
// for both.
package llm
