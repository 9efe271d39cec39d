// Package modeltext is where text crosses the trust boundary around the
// model. The model's words are steered by whatever its tools returned (a
// pod annotation, an issue body, a web page), so neither direction is
// trusted:
//
//   - neutralize.go  what the model writes reaches the browser only as
//     text: Policy.Stream (streamed deltas, tags split across chunks or
//     whole) and Policy.Text (whole texts, such as the chat history) write
//     every "<" as "&lt;" except the <think> and </think> tags, so no chunk
//     can be read as a protocol frame of spec/ui-protocol.md §2.2 and no
//     raw HTML reaches markdown-it; Markdown images outside MediaHosts
//     become plain links, so the browser fetches nothing on its own.
//     Policy.Trusted (LLM_MOCK_ENABLED) passes text unchanged.
//   - toolresult.go  what a tool returns reaches the model as data:
//     ToolResult delimits it as untrusted, names the tool and its server,
//     and caps its size with a note saying how much was cut.
//   - json.go        EscapeJSON: JSON for a frame of the agent's own, with
//     "<", ">" and "&" written as \u escapes inside strings.
package modeltext
