// Package jsonbytes appends JSON to byte slices exactly as encoding/json
// writes it, for the few bodies and records encoded by hand on a chat
// turn's path (the Ollama request in internal/llm/provider, the stored
// message record in internal/store): encoding/json's reflection was a
// measurable part of a turn's CPU (BENCHMARKS.md, stop 17). What it writes
// is held to json.Marshal's bytes by a fuzz test.
package jsonbytes
