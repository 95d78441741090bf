package daemon

import (
	"context"

	"github.com/openhags/hags/daemon/ipc"
)

func ipcDialAdmin(ctx context.Context, socket string) (*ipc.AdminConn, error) {
	return ipc.DialAdmin(ctx, socket, "test")
}
