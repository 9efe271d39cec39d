// Package chat speaks the Rancher AI UI's WebSocket protocol for one
// connection (spec/ui-protocol.md): it parses client frames, builds server
// frames, and runs the single reader goroutine that routes each frame to
// where it belongs.
//
// The reader never blocks on a turn: prompts are queued and run one at a
// time by a separate goroutine; replies such as "authentication_confirmed"
// go to whichever flow is waiting for them (Emitter.Ask registers the wait
// before it sends its frame), and stray replies are dropped rather than
// mistaken for prompts; "<stop>" cancels the running turn. This is where a
// WebSocket frame becomes a turn for package agent (see Conn.Serve and the
// Handler it calls).
//
// What lives here, one job per file:
//
//   - conn.go    Conn: the reader, the prompt queue and its worker, Send and
//     Ask (the Emitter a turn uses), stop and shutdown.
//   - input.go   parseFrame: a client frame is a prompt, a reply or <stop>.
//   - frames.go  the server frames (<message>, <chat-metadata>, <error>,
//     <authentication>, <token-refresh>, <agent-metadata>, …).
//   - signin.go  Browser: the OAuth sign-in and refresh asked of the user's
//     browser (AskSignIn, AskRefresh), so package oauth needs no frame.
package chat
