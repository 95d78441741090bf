package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// DebianOCFRoot is where Debian's resource-agents package puts the OCF
// agents and their shell library.
const DebianOCFRoot = "/usr/lib/ocf"

var (
	raOnce sync.Once
	raErr  error
)

// ResourceAgents makes sure Debian's resource-agents package is installed
// (ocf:heartbeat:Dummy is the failover manager's reference agent),
// installing it with apt-get when the process runs as root, once per
// process. It returns why not when the package cannot be had; callers skip
// their test with that.
func ResourceAgents() error {
	raOnce.Do(func() {
		dummy := filepath.Join(DebianOCFRoot, "resource.d/heartbeat/Dummy")
		if _, err := os.Stat(dummy); err == nil {
			return
		}
		if os.Geteuid() != 0 {
			raErr = errors.New("not root, cannot install it")
			return
		}
		install := func() error {
			cmd := exec.Command("apt-get", "install", "-y", "-qq", "resource-agents")
			cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
			out, err := cmd.CombinedOutput()
			if err != nil {
				return fmt.Errorf("apt-get install resource-agents: %v: %s", err, out)
			}
			return nil
		}
		if raErr = install(); raErr != nil {
			if out, err := exec.Command("apt-get", "update", "-qq").CombinedOutput(); err != nil {
				raErr = fmt.Errorf("%w; apt-get update: %v: %s", raErr, err, out)
				return
			}
			raErr = install()
		}
		if raErr == nil {
			if _, err := os.Stat(dummy); err != nil {
				raErr = fmt.Errorf("resource-agents installed but %s is missing", dummy)
			}
		}
	})
	return raErr
}

// OCFRoot builds an OCF root at root for tests: the agents in the
// directory src under resource.d/PROVIDER (mode 0755), and Debian's
// heartbeat agents and their shell library linked in. The copying runs in
// a child process: a file this process opened for writing could be
// inherited by a parallel test's fork and make its exec fail with ETXTBSY.
func OCFRoot(root, provider, src string) error {
	src, err := filepath.Abs(src)
	if err != nil {
		return err
	}
	cmd := exec.Command("/bin/sh", "-c", `set -e
mkdir -p "$2/resource.d"
cp -R "$1" "$2/resource.d/$3"
chmod 755 "$2" "$2/resource.d" "$2/resource.d/$3" "$2/resource.d/$3/"*
ln -s "$4/resource.d/heartbeat" "$2/resource.d/heartbeat"
ln -s "$4/lib" "$2/lib"`, "setup", src, root, provider, DebianOCFRoot)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("harness: setting up the OCF root %s: %v: %s", root, err, out)
	}
	return nil
}
