// Command fakerm serves the management protocol on a Unix socket with
// mgmttest.Fake behind it: a stand-in for hagsrmd in tests of hagsrm,
// which build it, start it, and run hagsrm against it. It is no manager:
// it agrees on nothing and runs no agent.
//
//	fakerm --socket PATH [--admin-group NAME] [--user-group NAME]
//
// It prints "ready" on stdout once it listens (the socket mode 0666, its
// directory 0755, so that tests may connect as another user) and serves
// until SIGTERM or SIGINT.
package main

import (
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/openhags/hags/failover/internal/mgmt"
	"github.com/openhags/hags/failover/internal/mgmt/mgmttest"
)

func main() {
	socket := flag.String("socket", "", "the socket to serve")
	admin := flag.String("admin-group", mgmt.DefaultAdminGroup, "members get access All")
	user := flag.String("user-group", mgmt.DefaultUserGroup, "members get access Read")
	flag.Parse()
	if *socket == "" {
		fmt.Fprintln(os.Stderr, "fakerm: --socket is required")
		os.Exit(2)
	}
	if err := serve(*socket, *admin, *user); err != nil {
		fmt.Fprintln(os.Stderr, "fakerm:", err)
		os.Exit(1)
	}
}

func serve(socket, admin, user string) error {
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
	srv, err := mgmt.New(mgmt.Config{Backend: fake, AdminGroup: admin, UserGroup: user,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		srv.Close()
	}()
	fmt.Println("ready")
	if err := srv.Serve(ln); err != mgmt.ErrClosed {
		return err
	}
	return nil
}
