// Command peerrelay connects to a hagsd socket ($HA_GS_SOCKET) and copies
// its standard input to the connection and the connection to its standard
// output, until either side ends. The real-process tests run it as another
// user, so that the daemon sees that user's credentials (SO_PEERCRED) on
// frames the test writes itself: a client that skips the library's checks.
// When it cannot connect it says so on its standard error and ends, and the
// test reads the end of its output.
package main

import (
	"fmt"
	"io"
	"net"
	"os"

	"github.com/openhags/hags/internal/wire"
)

func main() {
	c, err := net.Dial("unix", os.Getenv(wire.SocketEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "peerrelay:", err)
		return
	}
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(c, os.Stdin)
		_ = c.(*net.UnixConn).CloseWrite()
		done <- struct{}{}
	}()
	go func() {
		_, _ = io.Copy(os.Stdout, c)
		done <- struct{}{}
	}()
	<-done
	_ = c.Close()
}
