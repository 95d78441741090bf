// Command fakerm serves the management protocol on a Unix socket with
// mgmttest.Fake behind it: a stand-in for hagsrmd in tests of hagsrm,
// which build it, start it, and run hagsrm against it. It is no manager:
// it agrees on nothing and runs no agent.
//
//	fakerm --socket PATH [--admin-group NAME] [--user-group NAME] [--console URL]
//
// It prints "ready" on stdout once it listens (the socket mode 0666, its
// directory 0755, so that tests may connect as another user) and serves
// until it is killed. When it cannot start it says why on stderr and
// never prints "ready".
package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/internal/mgmt"
	"github.com/openhags/hags/failover/internal/mgmt/mgmttest"
)

func main() {
	socket := flag.String("socket", "", "the socket to serve")
	admin := flag.String("admin-group", mgmt.DefaultAdminGroup, "members get access All")
	user := flag.String("user-group", mgmt.DefaultUserGroup, "members get access Read")
	console := flag.String("console", "", "the web console's URL to hand out (default: no console)")
	flag.Parse()
	if err := serve(*socket, *admin, *user, *console); err != nil {
		fmt.Fprintln(os.Stderr, "fakerm:", err)
	}
}

func serve(socket, admin, user, console string) error {
	if socket == "" {
		return errors.New("--socket is required")
	}
	if err := os.Chmod(filepath.Dir(socket), 0o755); err != nil {
		return err
	}
	ln, err := net.Listen("unix", socket)
	if err != nil {
		return err
	}
	if err := os.Chmod(socket, 0o666); err != nil {
		return err
	}
	fake := mgmttest.New()
	defer fake.Close()
	if console != "" {
		u, err := url.Parse(console)
		if err != nil {
			return fmt.Errorf("--console: %w", err)
		}
		fake.SetConsole(&failover.ConsoleInfo{URL: console, Address: u.Host, Token: u.Query().Get("token")})
	}
	srv, err := mgmt.New(mgmt.Config{Backend: fake, AdminGroup: admin, UserGroup: user,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		return err
	}
	fmt.Println("ready")
	return srv.Serve(ln)
}
