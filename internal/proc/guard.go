package proc

import (
	"os"
	"os/exec"
	"sync"
	"syscall"
)

// guardScript is the parent-death guard: it ignores the signals a stop
// sends to the group, waits for end of file on its stdin, and then kills
// its own process group, which is the guarded child's. Only this process
// holds the pipe's write end (close-on-exec, so no child inherits it), so
// end of file comes when this process dies, however it dies.
const guardScript = `trap '' HUP INT QUIT TERM USR1 USR2 PIPE ALRM; read _; kill -9 0`

// guardShell runs guardScript.
const guardShell = "/bin/sh"

// guardPipe is the pipe every guard reads; both ends stay open for the
// life of the process.
var guardPipe struct {
	once sync.Once
	r, w *os.File
	err  error
}

// startGuard starts a guard as the leader of a new process group and
// returns it; the caller puts the guarded child in its group.
func startGuard() (*exec.Cmd, error) {
	guardPipe.once.Do(func() {
		guardPipe.r, guardPipe.w, guardPipe.err = os.Pipe()
	})
	if guardPipe.err != nil {
		return nil, guardPipe.err
	}
	cmd := &exec.Cmd{
		Path:        guardShell,
		Args:        []string{"hags-guard", "-c", guardScript},
		Env:         []string{"PATH=" + SafePath},
		Dir:         "/",
		Stdin:       guardPipe.r,
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd, nil
}
