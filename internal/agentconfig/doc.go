// Package agentconfig holds the set of configured agents and where it comes from.
//
// An Agent is an AIAgentConfig together with the data of the Secrets it
// references (authentication Secret, CA bundle), resolved once so that a chat
// connection never reads the Kubernetes API or a file. A Source yields the
// current set; the file source reads a multi-document YAML stream of
// AIAgentConfig and Secret objects as kubectl apply would take them.
package agentconfig
