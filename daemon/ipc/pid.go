package ipc

import "os"

var pid = os.Getpid
