package failover

// Access is what a connection to hagsrmd may do, decided by the caller's
// credentials when it connects: root and members of the admin group
// (hagsadmin) get AccessAll, members of the user group (hagsuser)
// AccessRead, and anyone else is refused. A mutating operation on a Read
// connection fails with ERROR_ACCESS_DENIED.
type Access uint8

// Access levels.
const (
	AccessNone Access = 0
	AccessRead Access = 1
	AccessAll  Access = 2
)

// String returns "none", "read" or "all".
func (a Access) String() string {
	switch a {
	case AccessRead:
		return "read"
	case AccessAll:
		return "all"
	}
	return "none"
}
