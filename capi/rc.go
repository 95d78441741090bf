package main

/*
#include "ha_gs.h"
*/
import "C"

import (
	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/internal/wire"
)

// rcTable is the one table from gsapi's return codes to ha_gs_rc_t. The
// numbers are equal by design (internal/wire fixes both); the table makes
// the correspondence explicit and a test proves it total.
var rcTable = map[gsapi.Code]C.ha_gs_rc_t{
	wire.OK:                      C.HA_GS_OK,
	wire.NotOK:                   C.HA_GS_NOT_OK,
	wire.Exists:                  C.HA_GS_EXISTS,
	wire.NoInit:                  C.HA_GS_NO_INIT,
	wire.NameTooLong:             C.HA_GS_NAME_TOO_LONG,
	wire.NoMemory:                C.HA_GS_NO_MEMORY,
	wire.NotAMember:              C.HA_GS_NOT_A_MEMBER,
	wire.BadClientToken:          C.HA_GS_BAD_CLIENT_TOKEN,
	wire.BadMemberToken:          C.HA_GS_BAD_MEMBER_TOKEN,
	wire.BadParameter:            C.HA_GS_BAD_PARAMETER,
	wire.UnknownGroup:            C.HA_GS_UNKNOWN_GROUP,
	wire.InvalidGroup:            C.HA_GS_INVALID_GROUP,
	wire.NoSourceGroupProvider:   C.HA_GS_NO_SOURCE_GROUP_PROVIDER,
	wire.BadGroupAttributes:      C.HA_GS_BAD_GROUP_ATTRIBUTES,
	wire.WrongOldState:           C.HA_GS_WRONG_OLD_STATE,
	wire.DuplicateInstanceNumber: C.HA_GS_DUPLICATE_INSTANCE_NUMBER,
	wire.Collide:                 C.HA_GS_COLLIDE,
	wire.SockCreateFailed:        C.HA_GS_SOCK_CREATE_FAILED,
	wire.SockInitFailed:          C.HA_GS_SOCK_INIT_FAILED,
	wire.ConnectFailed:           C.HA_GS_CONNECT_FAILED,
	wire.VoteNotExpected:         C.HA_GS_VOTE_NOT_EXPECTED,
	wire.NotSupported:            C.HA_GS_NOT_SUPPORTED,
	wire.InvalidSourceGroup:      C.HA_GS_INVALID_SOURCE_GROUP,
	wire.UnknownProvider:         C.HA_GS_UNKNOWN_PROVIDER,
	wire.ProviderAppearsTwice:    C.HA_GS_PROVIDER_APPEARS_TWICE,
	wire.InvalidDeactivatePhase:  C.HA_GS_INVALID_DEACTIVATE_PHASE,
	wire.BacklevelProviders:      C.HA_GS_BACKLEVEL_PROVIDERS,
	wire.StateValueTooLong:       C.HA_GS_STATE_VALUE_TOO_LONG,
	wire.MessageTooLong:          C.HA_GS_MESSAGE_TOO_LONG,
	wire.PermissionDenied:        C.HA_GS_PERMISSION_DENIED,
	wire.NoAdapterInfo:           C.HA_GS_NO_ADAPTER_INFO,
	wire.ForkedChild:             C.HA_GS_FORKED_CHILD,
}

// rc converts a code to the value a C function returns; a code outside
// the table (none exists) becomes HA_GS_NOT_OK.
func rc(code gsapi.Code) C.int {
	if v, ok := rcTable[code]; ok {
		return C.int(v)
	}
	return C.int(C.HA_GS_NOT_OK)
}

// rcOf converts a gsapi error to the value a C function returns.
func rcOf(err error) C.int { return rc(gsapi.CodeOf(err)) }
