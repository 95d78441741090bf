package manager

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// fenceTimeout bounds one run of a fence command.
const fenceTimeout = 60 * time.Second

// runFence runs command with the node's name as its only argument, in its
// own process group, with a clean environment; exit 0 is success. The
// group is killed when ctx ends.
func runFence(ctx context.Context, command, node string) error {
	fields := strings.Fields(command)
	if len(fields) == 0 {
		return fmt.Errorf("empty fence command")
	}
	cmd := exec.CommandContext(ctx, fields[0], append(fields[1:], node)...)
	cmd.Env = []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HAGS_FENCE_NODE=" + node}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", command, node, err, strings.TrimSpace(lastLines(string(out), 3)))
	}
	return nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " / ")
}
