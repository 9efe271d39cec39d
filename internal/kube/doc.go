// Package kube reads agents from the cluster: AIAgentConfig objects and the
// Secrets they reference, in one namespace, through a controller-runtime
// informer cache.
//
// A chat connection asks for the agents on every connect, so Source answers
// from the cache and never calls the API server; edits reach the next chat
// through the watch without a restart, and Notify tells the caller which
// agent changed so it can drop MCP sessions built with old credentials.
package kube
