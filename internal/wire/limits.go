package wire

// Limits enforced by the client libraries (synchronously) and again by the
// daemon (which never trusts a client). include/ha_gs.h publishes the same
// numbers as HA_GS_MAX_* macros; docs/limits.md explains the choices.
const (
	// MaxGroupNameLength is the longest group name, in bytes, without the
	// terminating NUL. Longer names get NameTooLong.
	MaxGroupNameLength = 127
	// MaxLocalNameLength is the longest gs_provider_local_name, in bytes.
	MaxLocalNameLength = 255
	// MaxStateValueLength is the largest state value, in bytes.
	MaxStateValueLength = 16384
	// MaxProviderMessageLength is the largest provider message, in bytes.
	MaxProviderMessageLength = 16384
	// MaxDeactivateFlagLength is the deactivate flag's size with its NUL;
	// longer flags are truncated to MaxDeactivateFlagLength-1 bytes.
	MaxDeactivateFlagLength = 256
	// MaxScriptPathLength is the longest deactivate script path (PATH_MAX-1).
	MaxScriptPathLength = 4095
	// MaxProvidersPerGroup bounds one group's membership.
	MaxProvidersPerGroup = 2048
	// MaxGroupsPerDomain bounds the number of groups a domain holds.
	MaxGroupsPerDomain = 65536
	// MaxClientsPerDaemon bounds the client connections one daemon serves.
	MaxClientsPerDaemon = 4096
	// MaxFFDCLength is the longest FFDC id, in bytes, without the NUL
	// (fc_eid_t holds 64 bytes with it).
	MaxFFDCLength = 63
	// MaxFrameSize is the largest frame payload (version, type and body).
	MaxFrameSize = 1 << 20

	// MaxProgramNameLength is the longest program name a client gives in
	// Hello (for logs and hagsctl), in bytes. Longer names get NameTooLong.
	MaxProgramNameLength = 255
	// MaxHelloSize is the largest Hello frame payload the daemon reads: a
	// Hello holds at most a program name and a script path, so anything
	// larger is refused before its body is decoded.
	MaxHelloSize = 16 << 10
	// MaxTokensPerClient bounds the distinct tokens one session may name
	// in joins and subscriptions over its life (every daemon of the domain
	// keeps a record of each until the session ends). A join or
	// subscription naming one more gets a delayed NoMemory.
	MaxTokensPerClient = 16384
)
