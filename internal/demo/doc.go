// Package demo is the whole system in miniature for `ai-agent demo`: a small
// MCP server with a few useful tools over a made-up cluster inventory, and
// the script that lets the scripted model use them, so a newcomer can chat
// with the agent with no outside service.
package demo
