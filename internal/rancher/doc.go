// Package rancher talks to the Rancher management API on behalf of the
// agent. UserResolver finds out who sent a request: it takes the R_SESS
// session cookie (or the RANCHER_API_TOKEN override), asks Rancher
// /v3/users?me=true, and caches the answer briefly so that a chat's many
// requests cost one Rancher call. AgentFilter keeps the agents Steve lists
// for the user. AccessReviewer (access.go) asks whether a user may do
// something: a SubjectAccessReview in a cluster, a SelfSubjectAccessReview
// through Rancher as the user outside one, with CachedAccess in front.
package rancher
