// Package chat speaks the Rancher AI UI's WebSocket protocol for one
// connection: it parses client frames, builds server frames, and runs the
// single reader goroutine that routes each frame to where it belongs.
//
// The reader never blocks on a turn: prompts are queued and run one at a
// time by a separate goroutine; replies such as "authentication_confirmed"
// go to whichever flow is waiting for them (see Conn.Await), and stray
// replies are dropped rather than mistaken for prompts; "<stop>" cancels the
// running turn. This is where a WebSocket frame becomes a turn for package
// agent (see Conn.Serve and the Handler it calls).
package chat
