// Package auth decides who is calling and what they may do.
//
// An Authenticator turns a request into an Identity: Keystone validates
// the X-Auth-Token with the service user's credentials (results cached
// until the token expires, at most a few minutes), while NoAuth, for the
// quick start and tests only, trusts a fixed identity or identity headers.
// Policy evaluates oslo.policy check strings with upstream freezer-api's
// rule names and secure-RBAC defaults, overridable by a policy.yaml.
package auth
