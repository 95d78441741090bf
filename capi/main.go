// Command capi is libha_gs, the GSAPI C library of hags, built with
// -buildmode=c-shared (libha_gs.so.1, also installed as libha_gs_r.so) and
// -buildmode=c-archive (libha_gs.a). include/ha_gs.h is its contract.
//
// The library is thin: ha_gs.c holds the public ha_gs_* functions, which do
// in C what must not enter Go (the fork guard, the callback-depth check of
// ha_gs_dispatch, getenv) and call the //export hagsgo_* functions of
// export.go, which read the C request blocks and call gsapi. Notifications
// come back through gsapi's dispatch: each is built once as a C block in C
// memory (notify.go), handed to the program's callback through a static
// inline trampoline (trampoline.h) and freed when the callback returns.
// The protocol logic is in gsapi and the daemon, never here. The runtime
// keeps at least two Ps (runtime.go), so that gsapi's reader never waits
// for the P parked on the program's thread.
//
// Tokens. The library keeps one gsapi.Client per ha_gs_init. Its tokens
// are the C tokens; each new session starts counting after the last token
// of the previous one (gsapi.WithFirstToken), so a token from before a
// re-initialisation is recognisably stale (HA_GS_BAD_CLIENT_TOKEN) and a
// token never issued is HA_GS_BAD_MEMBER_TOKEN.
//
// Every export recovers a Go panic and returns HA_GS_NOT_OK rather than
// take the host process down.
package main

func main() {}
