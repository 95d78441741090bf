// Package integration holds the real-process tests: real hagsd daemons and
// real client processes (examples/go/gsclient) talking over real Unix
// sockets. The tests build the binaries themselves, so `go test ./...`
// needs nothing but Go.
package integration
