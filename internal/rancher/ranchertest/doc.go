// Package ranchertest holds test doubles of Rancher's endpoints that tests
// of several packages share. A double checks what the agent sends as
// strictly as Rancher would, and fails the test otherwise.
package ranchertest
