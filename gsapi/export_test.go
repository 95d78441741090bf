package gsapi

import "encoding/binary"

// DialError exposes dialError's classification of connection failures.
func DialError(err error) error { return dialError(err) }

// SetRoot sets whether c counts as a root process (Dial records the
// effective uid), so that tests run by root can act as another user.
func SetRoot(c *Client, root bool) { c.root = root }

// QueuedFrames returns how many whole frames wait in c's writer for the
// Write under way to return.
func QueuedFrames(c *Client) int {
	c.out.mu.Lock()
	defer c.out.mu.Unlock()
	n := 0
	for b := c.out.pending; len(b) >= 4; n++ {
		b = b[4+int(binary.BigEndian.Uint32(b)):]
	}
	return n
}
