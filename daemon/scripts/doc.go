// Package scripts runs deactivate scripts for hagsd.
//
// The engine (daemon/protocol) decides that a provider's deactivate script
// must run and emits an EffectRunScript; the daemon on the provider's node
// hands the ScriptRun to a Runner, which starts the script as the client that
// registered it, captures its output into the daemon log, enforces the time
// limit, and reports a wire.DeactivateResult through a callback. The daemon
// turns that into an EventScriptDone for the engine.
//
// CheckScript is the test applied to a script path when a client registers
// it at ha_gs_init, and again by a Runner just before each run; it judges
// the file as the registering user (and, for root, that only root can
// change it).
//
// docs/deactivate-scripts.md is the operator's reference for what a script
// sees (arguments, environment, user, limits) and what its exit status means.
package scripts
