// Package upstream imports the database of an upstream (Python)
// freezer-api into ours (freezer-manage db import-upstream): one function
// per upstream table reads its rows (store.ScanTable) and writes them
// through the store's Import methods, which keep ids and owners and leave
// rows that exist already alone.
package upstream
