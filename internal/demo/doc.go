// Package demo is the whole system in miniature for `ai-agent demo`: a small
// MCP server with a few useful tools over a made-up cluster inventory, a
// notes MCP server protected by a small OAuth 2.1 authorization server (with
// RFC 7009 revocation, so that a sign-out is real), the
// script that lets the scripted model use them (Markdown answers, <think>
// sections, documentation links, a delegated sub-agent), so a newcomer can
// chat with the agent with no outside service. The demo has no Rancher:
// User tells its users apart by a cookie the page sets, and AgentsHandler
// serves the agents' names and descriptions that the Rancher UI would read
// through Steve.
package demo
