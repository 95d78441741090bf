package gsapi

// DialError exposes dialError's classification of connection failures.
func DialError(err error) error { return dialError(err) }

// SetRoot sets whether c counts as a root process (Dial records the
// effective uid), so that tests run by root can act as another user.
func SetRoot(c *Client, root bool) { c.root = root }
