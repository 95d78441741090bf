package gsapi

// Pending returns how many notifications are queued, for tests that must
// know a frame has arrived without dispatching it.
func (c *Client) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue) - c.head
}

// DialError exposes dialError's classification of connection failures.
func DialError(err error) error { return dialError(err) }
