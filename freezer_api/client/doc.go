// Package client is the Go client of the freezer-api v2 REST API, used by
// the scheduler (and by tests and tools) the way python-freezerclient is
// used by upstream's programs.
//
// It sits on a gophercloud v2 ServiceClient, so Keystone authentication,
// the catalog lookup of the service type "backup" and re-authentication on
// an expired token come from gophercloud. A client can also be built for a
// fixed endpoint with no authentication at all (a no-auth freezer-api, or a
// test server). Searches are sent as a JSON body on GET, as the API expects.
package client
