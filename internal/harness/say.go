package harness

import (
	"fmt"
	"sync"
)

// sayMu keeps the lines of Say whole when several goroutines print at once.
var sayMu sync.Mutex

// Say prints one line on standard output, whole even when other goroutines
// print too: the demos show what every process says as it says it.
func Say(format string, args ...any) {
	sayMu.Lock()
	defer sayMu.Unlock()
	fmt.Printf(format+"\n", args...)
}

// Tee returns a function that Says each line it is given, after name in a
// column width characters wide: a process's output, labelled, for
// StartDaemon and StartClient.
func Tee(name string, width int) func(string) {
	return func(line string) { Say("    %-*s| %s", width, name, line) }
}
