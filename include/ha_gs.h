/*
 * ha_gs.h - Group Services API (GSAPI) of hags, a re-implementation of IBM
 * RSCT Group Services.
 *
 * Link with -lha_gs (or -lha_gs_r; both name the same thread-safe library).
 *
 * Compatibility
 *   Every name and layout that IBM documented is kept exactly, so GSAPI
 *   programs compile unchanged. IBM never published the numeric values of
 *   the constants, nor several layouts; those are ours, and programs built
 *   against IBM's header must be recompiled. Every name or layout that IBM
 *   did not document is marked "project-defined" where it is declared.
 *   Every numeric value except HA_GS_OK (0) is project-defined; the values
 *   are our ABI and never change. docs/c-api.md lists the choices and the
 *   errors of every function.
 *
 * Enumerations and flag sets
 *   A type whose value is exactly one of its constants is a C enumeration,
 *   so compilers can check switch statements over it. A type whose value is
 *   a set of flags OR-ed together (ha_gs_socket_ctrl_t, ha_gs_summary_code_t,
 *   ha_gs_whats_changed_t, ha_gs_subscription_ctrl_t,
 *   ha_gs_subscription_type_t, ha_gs_adapter_death_t and the special-data
 *   block kinds) is an unsigned integer type, and its constants are members
 *   of an unnamed enumeration: in C++ the OR of two enumerators is an int,
 *   which converts to an integer type but not to an enumeration type. Every
 *   enumeration and flag type is four bytes wide.
 *
 * Threading
 *   The library is thread-safe: any thread may call any function. Callbacks
 *   run only inside ha_gs_dispatch, on the thread that called it, one at a
 *   time and in the order the notifications arrived.
 *
 * Pointers
 *   Request blocks and everything they point to are read, and copied, during
 *   the call; the caller may reuse or free them as soon as it returns.
 *   Notification blocks and everything they point to belong to the library
 *   and are valid only until the callback returns; copy what you keep.
 *   Any callback pointer may be NULL: that notification is then dropped for
 *   that client. A provider without an n-phase callback must still vote, or
 *   the time limit and the default vote apply.
 *
 * Errors
 *   Every function returns HA_GS_OK (0) or an error. Errors the library can
 *   tell at once come back as the return value ("Returns:"); errors that only
 *   the daemon can tell come back later, through the delayed error callback
 *   given to ha_gs_init ("Async errors:"). Before ha_gs_init and after
 *   ha_gs_quit every other function returns HA_GS_NO_INIT. In a child
 *   forked after ha_gs_init every function returns HA_GS_FORKED_CHILD
 *   without touching the parent's connection; so does a child forked
 *   after the library was loaded, even before ha_gs_init, because the
 *   library's runtime does not survive fork(): such a child must exec, or
 *   the program must fork before loading the library. The library closes
 *   the session's socket in every forked child (a pthread_atfork handler),
 *   so that a child outliving its parent does not keep the parent's
 *   providers in their groups. HA_GS_NOT_OK means the connection to the daemon
 *   is lost: every membership and subscription is gone, and the client may
 *   call ha_gs_init again.
 */
#ifndef HA_GS_H
#define HA_GS_H

#include <stdint.h>
#include <netinet/in.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Limits and names (all project-defined). The client library checks them
 * at once and the daemon checks them again.
 * ------------------------------------------------------------------------ */

/* Longest group name, in bytes, without the NUL; longer: HA_GS_NAME_TOO_LONG. */
#define HA_GS_MAX_GROUP_NAME_LENGTH        127   /* project-defined */
/* Longest gs_provider_local_name, in bytes; longer: HA_GS_NAME_TOO_LONG. */
#define HA_GS_MAX_LOCAL_NAME_LENGTH        255   /* project-defined */
/* Largest state value in bytes; exactly this is accepted, longer gets
 * HA_GS_STATE_VALUE_TOO_LONG. */
#define HA_GS_MAX_STATE_VALUE_LENGTH       16384 /* project-defined */
/* Largest provider message in bytes; longer: HA_GS_MESSAGE_TOO_LONG. */
#define HA_GS_MAX_PROVIDER_MESSAGE_LENGTH  16384 /* project-defined */
/* Size of gs_deactivate_flag with its NUL (IBM's ha_gs_expel page); a
 * longer flag is truncated to HA_GS_MAX_DEACTIVATE_FLAG_LENGTH - 1 bytes,
 * not refused. */
#define HA_GS_MAX_DEACTIVATE_FLAG_LENGTH   256   /* project-defined name */
/* Longest deactivate script path (PATH_MAX - 1); longer: HA_GS_BAD_PARAMETER
 * from ha_gs_init. */
#define HA_GS_MAX_SCRIPT_PATH_LENGTH       4095  /* project-defined */
/* Most providers in one group; a join beyond it is refused with the delayed
 * error HA_GS_NO_MEMORY. */
#define HA_GS_MAX_PROVIDERS_PER_GROUP      2048  /* project-defined */
/* Most groups in one domain; a join that would create one more is refused
 * with the delayed error HA_GS_NO_MEMORY. */
#define HA_GS_MAX_GROUPS_PER_DOMAIN        65536 /* project-defined */
/* Most clients one daemon serves; ha_gs_init beyond it gets HA_GS_NO_MEMORY. */
#define HA_GS_MAX_CLIENTS_PER_DAEMON       4096  /* project-defined */
/* Most tokens one session (one ha_gs_init) may name in joins and
 * subscriptions over its life; the join or subscription that names one
 * more is refused with the delayed error HA_GS_NO_MEMORY. */
#define HA_GS_MAX_TOKENS_PER_CLIENT        16384 /* project-defined */

/* The value to store in gs_version of ha_gs_group_attributes_t. */
#define HA_GS_GROUP_ATTRIBUTES_VERSION     1     /* project-defined */

/* The system group whose members are the nodes of the domain that are up
 * (instance 0, node number = the node). Anyone may subscribe to it; nobody
 * may join it. */
#define HA_GS_HOST_MEMBERSHIP_GROUP        "HostMembership" /* project-defined */

/* Environment variable naming the domain whose daemon ha_gs_init connects
 * to. It is read with getenv() during ha_gs_init, so setenv() before the
 * call works. Unset: the domain "hags". */
#define HA_GS_DOMAIN_ENV                   "HA_DOMAIN_NAME" /* project-defined name */

/* Environment variable holding the path of the daemon's socket; it overrides
 * the default, /run/hags/<domain>/hagsd.sock. Read like HA_GS_DOMAIN_ENV. */
#define HA_GS_SOCKET_ENV                   "HA_GS_SOCKET"   /* project-defined */

/* ------------------------------------------------------------------------
 * Scalar types
 * ------------------------------------------------------------------------ */

/* A file descriptor: poll or select it for reading, never read or write it.
 * It is readable exactly when notifications are waiting for ha_gs_dispatch. */
typedef int ha_gs_descriptor_t;             /* project-defined layout */

/* A provider or subscriber token, passed by value. Valid tokens are > 0. */
typedef int ha_gs_token_t;                  /* project-defined layout */

/* A time limit in seconds; 0 means no limit. */
typedef unsigned int ha_gs_time_limit_t;    /* project-defined layout */

/* A group name: NUL-terminated, at most HA_GS_MAX_GROUP_NAME_LENGTH bytes. */
typedef char *ha_gs_group_name_t;           /* project-defined layout */

/* A First Failure Data Capture id: NUL-terminated text. */
typedef char fc_eid_t[64];                  /* project-defined layout */

/* ------------------------------------------------------------------------
 * Enumerations
 * ------------------------------------------------------------------------ */

/* Return codes of every function, and gs_delayed_return_code. */
typedef enum {
    HA_GS_OK                        = 0,
    HA_GS_NOT_OK                    = 1,
    HA_GS_EXISTS                    = 2,  /* project-defined */
    HA_GS_NO_INIT                   = 3,
    HA_GS_NAME_TOO_LONG             = 4,  /* project-defined */
    HA_GS_NO_MEMORY                 = 5,  /* project-defined */
    HA_GS_NOT_A_MEMBER              = 6,
    HA_GS_BAD_CLIENT_TOKEN          = 7,  /* project-defined: a token from before a re-init */
    HA_GS_BAD_MEMBER_TOKEN          = 8,
    HA_GS_BAD_PARAMETER             = 9,
    HA_GS_UNKNOWN_GROUP             = 10,
    HA_GS_INVALID_GROUP             = 11, /* project-defined */
    HA_GS_NO_SOURCE_GROUP_PROVIDER  = 12, /* project-defined */
    HA_GS_BAD_GROUP_ATTRIBUTES      = 13,
    HA_GS_WRONG_OLD_STATE           = 14, /* project-defined; never returned: no request
                                             names an expected old state value
                                             (docs/errors.md) */
    HA_GS_DUPLICATE_INSTANCE_NUMBER = 15,
    HA_GS_COLLIDE                   = 16,
    HA_GS_SOCK_CREATE_FAILED        = 17, /* project-defined */
    HA_GS_SOCK_INIT_FAILED          = 18, /* project-defined */
    HA_GS_CONNECT_FAILED            = 19, /* project-defined */
    HA_GS_VOTE_NOT_EXPECTED         = 20, /* project-defined */
    HA_GS_NOT_SUPPORTED             = 21, /* library and daemon of different levels: the
                                             daemon does not know the request (async)
                                             or the wire version (init); never with
                                             matched levels (docs/errors.md) */
    HA_GS_INVALID_SOURCE_GROUP      = 22, /* project-defined */
    HA_GS_UNKNOWN_PROVIDER          = 23,
    HA_GS_PROVIDER_APPEARS_TWICE    = 24,
    HA_GS_INVALID_DEACTIVATE_PHASE  = 25,
    HA_GS_BACKLEVEL_PROVIDERS       = 26, /* never returned: one API level exists, so
                                             no provider is back-level
                                             (docs/errors.md) */
    HA_GS_STATE_VALUE_TOO_LONG      = 27, /* project-defined */
    HA_GS_MESSAGE_TOO_LONG          = 28, /* project-defined */
    HA_GS_PERMISSION_DENIED         = 29, /* project-defined */
    HA_GS_NO_ADAPTER_INFO           = 30, /* project-defined */
    HA_GS_FORKED_CHILD              = 31  /* project-defined */
} ha_gs_rc_t;

/* One-phase (approved at once) or n-phase (voted on) protocols. */
typedef enum {
    HA_GS_1_PHASE = 1,
    HA_GS_N_PHASE = 2
} ha_gs_num_phases_t;

/* A vote, or a default vote. HA_GS_NULL_VOTE is valid only as the default
 * vote of ha_gs_vote, where it keeps the current default. */
typedef enum {
    HA_GS_NULL_VOTE     = 0,
    HA_GS_VOTE_APPROVE  = 1,
    HA_GS_VOTE_CONTINUE = 2,  /* approve this phase and ask for another */
    HA_GS_VOTE_REJECT   = 3
} ha_gs_vote_value_t;

/* How ha_gs_dispatch waits. */
typedef enum {
    HA_GS_NON_BLOCKING = 1,   /* deliver what has arrived, then return */
    HA_GS_BLOCKING     = 2    /* deliver forever; return only on error */
} ha_gs_dispatch_flag_t;

/* The first field of every notification block. */
typedef enum {
    HA_GS_N_PHASE_NOTIFICATION        = 1,  /* project-defined */
    HA_GS_APPROVED_NOTIFICATION       = 2,
    HA_GS_REJECTED_NOTIFICATION       = 3,  /* project-defined */
    HA_GS_ANNOUNCEMENT_NOTIFICATION   = 4,
    HA_GS_SUBSCRIPTION_NOTIFICATION   = 5,
    HA_GS_DELAYED_ERROR_NOTIFICATION  = 6,
    HA_GS_RESPONSIVENESS_NOTIFICATION = 7,
    HA_GS_QUERY_NOTIFICATION          = 8,  /* project-defined; never sent */
    HA_GS_MERGE_NOTIFICATION          = 9   /* project-defined; never sent */
} ha_gs_notification_type_t;

/* The kind of a protocol (gs_protocol_type) or of a failed request. */
typedef enum {
    HA_GS_JOIN                    = 1,  /* project-defined */
    HA_GS_FAILURE_LEAVE           = 2,  /* project-defined */
    HA_GS_LEAVE                   = 3,  /* project-defined */
    HA_GS_EXPEL                   = 4,  /* project-defined */
    HA_GS_STATE_VALUE_CHANGE      = 5,  /* project-defined */
    HA_GS_PROVIDER_MESSAGE        = 6,  /* project-defined */
    HA_GS_CAST_OUT                = 7,  /* project-defined */
    HA_GS_SOURCE_STATE_REFLECTION = 8,  /* project-defined */
    HA_GS_MERGE                   = 9,  /* project-defined */
    HA_GS_SUBSCRIPTION            = 10, /* project-defined: subscribe, unsubscribe */
    HA_GS_GROUP_ATTRIBUTE_CHANGE  = 11  /* project-defined */
} ha_gs_request_t;

/* Why a provider left, in ha_gs_leave_info_t. */
typedef enum {
    HA_GS_PROVIDER_LEFT         = 1,  /* project-defined: ha_gs_leave */
    HA_GS_PROVIDER_PROCESS_DIED = 2,  /* project-defined: its connection dropped */
    HA_GS_PROVIDER_NODE_DIED    = 3,  /* project-defined: node down or cut off */
    HA_GS_PROVIDER_SAID_GOODBYE = 4,  /* ha_gs_goodbye or ha_gs_quit */
    HA_GS_PROVIDER_EXPELLED     = 5,  /* project-defined: ha_gs_expel */
    HA_GS_PROVIDER_CAST_OUT     = 6   /* project-defined */
} ha_gs_leave_reason_t;                 /* project-defined */

/* The outcome of one deactivate script, in ha_gs_expel_info_t. */
typedef enum {
    HA_GS_DEACTIVATE_NOT_RUN   = 0,   /* project-defined: not run (yet) */
    HA_GS_DEACTIVATE_OK        = 1,   /* project-defined: exited with status 0 */
    HA_GS_DEACTIVATE_FAILED    = 2,   /* project-defined: other status, killed, or not startable */
    HA_GS_DEACTIVATE_TIMED_OUT = 3    /* project-defined: killed at the time limit */
} ha_gs_deactivate_result_t;          /* project-defined */

/* Which membership changes may share one protocol. */
typedef enum {
    HA_GS_NO_BATCHING          = 0,   /* project-defined */
    HA_GS_BATCH_JOINS          = 1,   /* project-defined */
    HA_GS_BATCH_FAILURE_LEAVES = 2,   /* project-defined */
    HA_GS_BATCH_BOTH           = 3    /* project-defined */
} ha_gs_batch_ctrl_t;                 /* project-defined */

/* What to do when sundered halves of a group meet again. hags never splits
 * a group: the value is checked and kept, never acted on. 0 is accepted as
 * "unspecified". */
typedef enum {
    HA_GS_DISSOLVE_MERGE = 1,         /* project-defined */
    HA_GS_DONT_MERGE     = 2          /* project-defined */
} ha_gs_merge_ctrl_t;                 /* project-defined */

/* How the daemon checks that a client is responsive. */
typedef enum {
    HA_GS_NO_RESPONSIVENESS      = 0, /* project-defined */
    HA_GS_PING_RESPONSIVENESS    = 1, /* project-defined: the responsiveness callback must answer */
    HA_GS_COUNTER_RESPONSIVENESS = 2  /* project-defined: a counter in the client must advance */
} ha_gs_responsiveness_type_t;        /* project-defined */

/* The answer of a responsiveness callback. */
typedef enum {
    HA_GS_CALLBACK_OK     = 0,        /* project-defined */
    HA_GS_CALLBACK_NOT_OK = 1         /* project-defined: counts as no answer */
} ha_gs_callback_rc_t;

/* ------------------------------------------------------------------------
 * Flag sets: an unsigned integer type and its constants
 * ------------------------------------------------------------------------ */

/* Options of ha_gs_init: exactly HA_GS_SOCKET_NO_SIGNAL, or
 * HA_GS_SOCKET_NO_SIGNAL | HA_GS_ENABLE_ADAPTER_INFO. */
typedef unsigned int ha_gs_socket_ctrl_t;  /* project-defined layout */
enum {
    HA_GS_SOCKET_NO_SIGNAL    = 1,   /* raise no signal when messages arrive */
    HA_GS_ENABLE_ADAPTER_INFO = 2    /* allow ha_gs_get_adapter_info */
};

/* How a protocol ended, or what an announcement reports. */
typedef unsigned int ha_gs_summary_code_t; /* project-defined layout */
enum {
    HA_GS_EXPLICIT_APPROVE                 = 0x0001, /* project-defined */
    HA_GS_EXPLICIT_REJECT                  = 0x0002, /* project-defined */
    HA_GS_DEFAULT_APPROVE                  = 0x0004, /* project-defined */
    HA_GS_DEFAULT_REJECT                   = 0x0008, /* project-defined */
    HA_GS_TIME_LIMIT_EXCEEDED              = 0x0010, /* project-defined */
    HA_GS_PROVIDER_FAILURE                 = 0x0020, /* project-defined */
    HA_GS_RESPONSIVENESS_NO_RESPONSE       = 0x0040, /* project-defined */
    HA_GS_RESPONSIVENESS_RESPONSE          = 0x0080, /* project-defined */
    HA_GS_DEACTIVATE_SUCCESSFUL            = 0x0100, /* project-defined */
    HA_GS_DEACTIVATE_UNSUCCESSFUL          = 0x0200, /* project-defined */
    HA_GS_DEACTIVATE_TIME_LIMIT_EXCEEDED   = 0x0400, /* project-defined */
    HA_GS_GROUP_DISSOLVED                  = 0x0800, /* project-defined */
    HA_GS_GROUP_SERVICES_HAS_DIED_HORRIBLY = 0x1000  /* project-defined */
};

/* What a protocol changes, in ha_gs_proposal_t. */
typedef unsigned int ha_gs_whats_changed_t;  /* project-defined */
enum {
    HA_GS_CHANGE_MEMBERSHIP       = 0x1,     /* project-defined */
    HA_GS_CHANGE_STATE_VALUE      = 0x2,     /* project-defined */
    HA_GS_CHANGE_PROVIDER_MESSAGE = 0x4,     /* project-defined */
    HA_GS_CHANGE_ATTRIBUTES       = 0x8      /* project-defined */
};

/* What a subscriber hears about. At least one of STATE_VALUE, DELTA_JOINS
 * and DELTA_LEAVES must be set. */
typedef unsigned int ha_gs_subscription_ctrl_t; /* project-defined layout */
enum {
    HA_GS_SUBSCRIBE_STATE_VALUE    = 0x1,   /* project-defined */
    HA_GS_SUBSCRIBE_DELTA_JOINS    = 0x2,   /* project-defined */
    HA_GS_SUBSCRIBE_DELTA_LEAVES   = 0x4,   /* project-defined */
    HA_GS_SUBSCRIBE_ALL_MEMBERSHIP =        /* project-defined: joins and leaves */
        HA_GS_SUBSCRIBE_DELTA_JOINS | HA_GS_SUBSCRIBE_DELTA_LEAVES,
    HA_GS_SUBSCRIBE_DELTAS_ONLY    = 0x8    /* project-defined: leave the full list out */
};

/* What a subscription notification reports. */
typedef unsigned int ha_gs_subscription_type_t; /* project-defined layout */
enum {
    HA_GS_SUBSCRIPTION_STATE_VALUE  = 0x01,  /* project-defined */
    HA_GS_SUBSCRIPTION_DELTA_JOIN   = 0x02,  /* project-defined */
    HA_GS_SUBSCRIPTION_DELTA_LEAVE  = 0x04,  /* project-defined */
    HA_GS_SUBSCRIPTION_DISSOLVED    = 0x08,  /* the last provider left */
    HA_GS_SUBSCRIPTION_SPECIAL_DATA = 0x10   /* gs_subscription_special_data is set */
};

/* The kind of one special-data block (gs_special_flag), and their OR in
 * gs_flag. */
enum {
    HA_GS_CURRENT_ADAPTER_ALIAS_ARRAY  = 0x1,
    HA_GS_CHANGING_ADAPTER_ALIAS_ARRAY = 0x2,
    HA_GS_ADAPTER_DEATH_ARRAY          = 0x4
};

/* One entry of an HA_GS_ADAPTER_DEATH_ARRAY block: four bytes of flags. */
typedef uint32_t ha_gs_adapter_death_t;
enum {
    HA_GS_ADAPTER_FAILED       = 0x1,    /* project-defined: the adapter failed */
    HA_GS_ADAPTER_DECONFIGURED = 0x2     /* project-defined: removed from the configuration */
};

/* ------------------------------------------------------------------------
 * Structures
 * ------------------------------------------------------------------------ */

/* One provider: its instance number (from its join request) on its node. */
typedef struct {
    int gs_instance_number;
    int gs_node_number;
} ha_gs_provider_t;                           /* project-defined layout */

/* A list of providers. */
typedef struct {
    unsigned int      gs_count;               /* entries in gs_providers */
    ha_gs_provider_t *gs_providers;           /* NULL when gs_count is 0 */
} ha_gs_membership_t;

/* A group's state value: gs_length opaque bytes, not NUL-terminated. */
typedef struct {
    int   gs_length;
    char *gs_state;
} ha_gs_state_value_t;                        /* project-defined layout */

/* A provider message: gs_length opaque bytes. */
typedef struct {
    int   gs_length;
    char *gs_message;
} ha_gs_provider_message_t;                   /* project-defined layout */

/* A group's attributes, fixed by the join that creates the group; later
 * joins must give equal ones. */
typedef struct {
    short                 gs_version;                   /* HA_GS_GROUP_ATTRIBUTES_VERSION */
    short                 gs_sizeof_group_attributes;   /* sizeof(ha_gs_group_attributes_t) */
    ha_gs_batch_ctrl_t    gs_batch_control;
    ha_gs_num_phases_t    gs_num_phases;                /* join and failure-leave protocols */
    ha_gs_num_phases_t    gs_source_reflection_num_phases;
    ha_gs_vote_value_t    gs_group_default_vote;        /* APPROVE or REJECT */
    ha_gs_merge_ctrl_t    gs_merge_control;
    ha_gs_time_limit_t    gs_time_limit;                /* per phase of join/failure-leave protocols */
    ha_gs_time_limit_t    gs_source_reflection_time_limit;
    char                 *gs_group_name;
    char                 *gs_source_group_name;         /* NULL or "" = none */
} ha_gs_group_attributes_t;                   /* project-defined layout */

/* Why one changing provider leaves: an array parallel to
 * gs_changing_providers. */
typedef struct {
    ha_gs_leave_reason_t  gs_leave_reason;
    unsigned int          gs_leave_code;      /* from ha_gs_leave_request_t, else 0 */
} ha_gs_leave_info_t;                         /* project-defined */

/* The deactivate scripts of an expel protocol. */
typedef struct {
    unsigned int               gs_deactivate_phase;
    char                      *gs_deactivate_flag;     /* NULL: none */
    ha_gs_deactivate_result_t *gs_deactivate_results;  /* parallel to gs_changing_providers */
} ha_gs_expel_info_t;                         /* project-defined */

/*
 * The content of n-phase, approved and rejected notifications. Pointers
 * that do not apply to the protocol are NULL.
 *
 * In an n-phase or rejected notification gs_current_providers and
 * gs_current_state_value describe the group before the change; in an
 * approved notification, after it (joiners in, leavers out, the new state
 * value). gs_changing_providers and gs_proposed_state_value describe the
 * change. gs_phase_number starts at 1; in an approved or rejected
 * notification it is the number of phases that ran (1 for one-phase).
 */
typedef struct {
    unsigned int               gs_phase_number;
    ha_gs_whats_changed_t      gs_whats_changed;
    ha_gs_membership_t        *gs_current_providers;
    ha_gs_membership_t        *gs_changing_providers;   /* joining, leaving, failing or expelled */
    ha_gs_state_value_t       *gs_current_state_value;
    ha_gs_state_value_t       *gs_proposed_state_value;
    ha_gs_provider_message_t  *gs_provider_message;
    ha_gs_group_attributes_t  *gs_proposed_attributes;  /* attribute-change protocols */
    ha_gs_leave_info_t        *gs_leave_info;           /* leave, failure leave, expel, cast out */
    ha_gs_expel_info_t        *gs_expel_info;           /* expel */
} ha_gs_proposal_t;                           /* project-defined layout */

/* How the daemon checks this client (ha_gs_init). */
typedef struct {
    ha_gs_responsiveness_type_t gs_responsiveness_type;
    unsigned int                gs_responsiveness_interval;            /* seconds between checks */
    unsigned int                gs_responsiveness_response_time_limit; /* seconds */
    void                       *gs_counter_location;                   /* counter method */
    unsigned int                gs_counter_length;                     /* 4 or 8 */
} ha_gs_responsiveness_t;                     /* project-defined layout */

/* Subscription special data: a list of blocks, in any order. */
typedef struct ha_gs_special_block ha_gs_special_block_t; /* project-defined tag */

struct ha_gs_special_block {
    unsigned int           gs_special_flag;        /* exactly one block kind */
    ha_gs_special_block_t *gs_next_special_block;  /* NULL on the last block */
    int                    gs_special_num_entries;
    int                    gs_special_length;      /* bytes per entry */
    void                  *gs_special;             /* the entries */
};

typedef struct {
    int                    gs_length;              /* number of blocks */
    unsigned int           gs_flag;                /* OR of the blocks' kinds */
    ha_gs_special_block_t *gs_special_data;        /* the first block */
} ha_gs_special_data_t;

/* Adapter information (ha_gs_get_adapter_info). Only IPv4 is supported. */
typedef union {
    struct in_addr  ip4;
    struct in6_addr ip6;
} ha_gs_ip_addr;

/*
 * gs_member_id and gs_group_name are not used. gs_group_name is const, as
 * IBM documents it, so C++ callers must initialise the structure:
 * "ha_gs_adapter_info info = {};".
 */
typedef struct {
    ha_gs_ip_addr             ip_addr;         /* in: network byte order */
    short                     node_number;     /* out */
    const char               *interface_name;  /* out: owned by the library */
    ha_gs_provider_t          gs_member_id;    /* not used */
    const ha_gs_group_name_t  gs_group_name;   /* not used */
} ha_gs_adapter_info;

/* ------------------------------------------------------------------------
 * Notification blocks and callback types. Every block starts with
 * gs_notification_type, so one routine may handle them all. Every callback
 * receives a pointer to a block that belongs to the library until the
 * callback returns.
 * ------------------------------------------------------------------------ */

/* One voting phase of an n-phase protocol: call ha_gs_vote with
 * gs_provider_token, inside the callback or later, within gs_time_limit
 * seconds (the proposal's limit; for joins and failure leaves, the group
 * attribute's). */
typedef struct {
    ha_gs_notification_type_t  gs_notification_type;  /* HA_GS_N_PHASE_NOTIFICATION */
    ha_gs_token_t              gs_provider_token;
    ha_gs_request_t            gs_protocol_type;
    ha_gs_summary_code_t       gs_summary_code;
    ha_gs_time_limit_t         gs_time_limit;
    ha_gs_proposal_t          *gs_proposal;
} ha_gs_n_phase_notification_t;

/* A protocol was approved; gs_proposal describes the group after it.
 * Summary: HA_GS_EXPLICIT_APPROVE when every vote was an explicit approve,
 * HA_GS_DEFAULT_APPROVE when some were default votes, neither for one-phase
 * protocols; plus the deactivate flags when scripts ran. */
typedef struct {
    ha_gs_notification_type_t  gs_notification_type;  /* HA_GS_APPROVED_NOTIFICATION */
    ha_gs_token_t              gs_provider_token;
    ha_gs_request_t            gs_protocol_type;
    ha_gs_summary_code_t       gs_summary_code;
    ha_gs_proposal_t          *gs_proposal;
} ha_gs_approved_notification_t;

/* The name IBM's ha_gs_protocol_approved_callback page uses. */
typedef ha_gs_approved_notification_t ha_gs_protocol_approved_notification_t;

/* An n-phase protocol was rejected; gs_proposal describes the unchanged
 * group and the discarded change. Summary: HA_GS_EXPLICIT_REJECT or
 * HA_GS_DEFAULT_REJECT, plus HA_GS_TIME_LIMIT_EXCEEDED (tardy providers)
 * and/or HA_GS_PROVIDER_FAILURE (a provider failed during the protocol). */
typedef struct {
    ha_gs_notification_type_t  gs_notification_type;  /* HA_GS_REJECTED_NOTIFICATION */
    ha_gs_token_t              gs_provider_token;
    ha_gs_request_t            gs_protocol_type;
    ha_gs_summary_code_t       gs_summary_code;
    ha_gs_proposal_t          *gs_proposal;
} ha_gs_rejected_notification_t;              /* project-defined layout */

/* An abnormal condition short of failure: tardy voters
 * (HA_GS_TIME_LIMIT_EXCEEDED) or a responsiveness check
 * (HA_GS_RESPONSIVENESS_NO_RESPONSE, HA_GS_RESPONSIVENESS_RESPONSE). */
typedef struct {
    ha_gs_notification_type_t  gs_notification_type;  /* HA_GS_ANNOUNCEMENT_NOTIFICATION */
    ha_gs_token_t              gs_provider_token;
    ha_gs_summary_code_t       gs_summary_code;
    ha_gs_membership_t        *gs_announcement;       /* the providers concerned */
} ha_gs_announcement_notification_t;

/* Merge of sundered halves of a group. Never sent: hags never splits a
 * group. */
typedef struct {
    ha_gs_notification_type_t  gs_notification_type;  /* HA_GS_MERGE_NOTIFICATION */
    ha_gs_token_t              gs_provider_token;
} ha_gs_merge_notification_t;                 /* project-defined layout */

/* A query from the subsystem. Never sent by hags. */
typedef struct {
    ha_gs_notification_type_t  gs_notification_type;  /* HA_GS_QUERY_NOTIFICATION */
    ha_gs_token_t              gs_provider_token;
} ha_gs_query_notification_t;                 /* project-defined layout */

/* An approved change of a watched group, or its dissolution. The first
 * notification after ha_gs_subscribe reports the current state value and/or
 * membership (everyone as joining). gs_full_membership is NULL unless
 * membership was asked for without HA_GS_SUBSCRIBE_DELTAS_ONLY. */
typedef struct {
    ha_gs_notification_type_t  gs_notification_type;  /* HA_GS_SUBSCRIPTION_NOTIFICATION */
    ha_gs_token_t              gs_subscriber_token;
    ha_gs_subscription_type_t  gs_subscription_type;
    ha_gs_state_value_t       *gs_state_value;
    ha_gs_membership_t        *gs_full_membership;
    ha_gs_membership_t        *gs_changing_membership;
    ha_gs_special_data_t      *gs_subscription_special_data; /* NULL unless ..._SPECIAL_DATA */
} ha_gs_subscription_notification_t;

/* A periodic responsiveness check; answer with the return value. */
typedef struct {
    ha_gs_notification_type_t  gs_notification_type;  /* HA_GS_RESPONSIVENESS_NOTIFICATION */
    ha_gs_responsiveness_t     gs_responsiveness_information; /* as given to ha_gs_init */
} ha_gs_responsiveness_notification_t;

typedef void ha_gs_n_phase_cb_t(const ha_gs_n_phase_notification_t *notification);
typedef void ha_gs_approved_cb_t(const ha_gs_approved_notification_t *notification);
typedef void ha_gs_rejected_cb_t(const ha_gs_rejected_notification_t *notification);
typedef void ha_gs_announcement_cb_t(const ha_gs_announcement_notification_t *notification);
typedef void ha_gs_merge_cb_t(const ha_gs_merge_notification_t *notification);
typedef void ha_gs_subscriber_cb_t(const ha_gs_subscription_notification_t *notification);
typedef ha_gs_callback_rc_t ha_gs_responsiveness_cb_t(
    const ha_gs_responsiveness_notification_t *notification);
typedef void ha_gs_query_cb_t(const ha_gs_query_notification_t *notification);

/* ------------------------------------------------------------------------
 * Request blocks, given to the request functions inside an
 * ha_gs_proposal_info_t. Fields in IBM's documented order.
 * ------------------------------------------------------------------------ */

/* ha_gs_join. The callbacks are this provider's for this group. */
typedef struct {
    ha_gs_group_attributes_t  *gs_group_attributes;
    short                      gs_provider_instance;   /* 0..32767, unique per node per group */
    char                      *gs_provider_local_name; /* NULL or a label for local logs */
    ha_gs_n_phase_cb_t        *gs_n_phase_protocol_callback;
    ha_gs_approved_cb_t       *gs_protocol_approved_callback;
    ha_gs_rejected_cb_t       *gs_protocol_rejected_callback;
    ha_gs_announcement_cb_t   *gs_announcement_callback;
    ha_gs_merge_cb_t          *gs_merge_callback;      /* accepted, never invoked */
} ha_gs_join_request_t;

/* ha_gs_leave. gs_leave_code reaches the others in gs_leave_info. */
typedef struct {
    ha_gs_num_phases_t  gs_num_phases;
    ha_gs_time_limit_t  gs_time_limit;
    unsigned int        gs_leave_code;
} ha_gs_leave_request_t;

/* ha_gs_expel. */
typedef struct {
    ha_gs_num_phases_t  gs_num_phases;
    ha_gs_time_limit_t  gs_time_limit;        /* votes, and each deactivate script */
    ha_gs_membership_t  gs_expel_list;        /* by value */
    unsigned int        gs_deactivate_phase;  /* 0: no script */
    char               *gs_deactivate_flag;   /* NULL: none; truncated beyond 255 bytes */
} ha_gs_expel_request_t;

/* ha_gs_change_state_value. */
typedef struct {
    ha_gs_num_phases_t   gs_num_phases;
    ha_gs_time_limit_t   gs_time_limit;
    ha_gs_state_value_t *gs_new_state;
} ha_gs_state_change_request_t;

/* ha_gs_send_message. */
typedef struct {
    ha_gs_num_phases_t        gs_num_phases;
    ha_gs_time_limit_t        gs_time_limit;
    ha_gs_provider_message_t *gs_message;
} ha_gs_message_request_t;

/* ha_gs_change_attributes. gs_backlevel_providers is ignored (there are no
 * back-level providers). */
typedef struct {
    ha_gs_num_phases_t         gs_num_phases;
    ha_gs_time_limit_t         gs_time_limit;
    ha_gs_group_attributes_t  *gs_group_attributes;
    ha_gs_membership_t        *gs_backlevel_providers;
} ha_gs_change_attributes_t;

/* ha_gs_subscribe. */
typedef struct {
    ha_gs_subscription_ctrl_t  gs_subscription_control;
    ha_gs_group_name_t         gs_subscription_group;
    ha_gs_subscriber_cb_t     *gs_subscription_callback;
} ha_gs_subscribe_request_t;

/* The proposal information block: each request function reads the member
 * that names its request. */
typedef union {
    ha_gs_join_request_t          gs_join_request;              /* project-defined name */
    ha_gs_leave_request_t         gs_leave_request;             /* project-defined name */
    ha_gs_expel_request_t         gs_expel_request;             /* project-defined name */
    ha_gs_state_change_request_t  gs_state_change_request;      /* project-defined name */
    ha_gs_message_request_t       gs_message_request;           /* project-defined name */
    ha_gs_change_attributes_t     gs_change_attributes_request; /* project-defined name */
    ha_gs_subscribe_request_t     gs_subscribe_request;         /* project-defined name */
} ha_gs_proposal_info_t;

/* A request failed after its function returned HA_GS_OK. gs_request_token
 * is the token of the failing request (the new token, for a refused join or
 * subscribe); gs_protocol_type is the request's kind (for a vote, the kind
 * of protocol voted on); gs_failing_request echoes the request. */
typedef struct {
    ha_gs_notification_type_t  gs_notification_type;  /* HA_GS_DELAYED_ERROR_NOTIFICATION */
    ha_gs_token_t              gs_request_token;
    ha_gs_request_t            gs_protocol_type;
    ha_gs_rc_t                 gs_delayed_return_code;
    ha_gs_proposal_info_t     *gs_failing_request;
} ha_gs_delayed_error_notification_t;

typedef void ha_gs_delayed_error_cb_t(const ha_gs_delayed_error_notification_t *notification);

/* ------------------------------------------------------------------------
 * Functions
 * ------------------------------------------------------------------------ */

/*
 * ha_gs_init - connect this process to the Group Services daemon.
 *
 * Connects to the daemon of the domain named by $HA_DOMAIN_NAME, or to the
 * socket named by $HA_GS_SOCKET, and stores in *ha_gs_descriptor a
 * descriptor that is readable whenever notifications wait for
 * ha_gs_dispatch. One connection per process; after a call has returned
 * HA_GS_NOT_OK, ha_gs_init may be called again (the old connection, its
 * tokens and its FFDC id are dropped).
 *
 * socket_options must be HA_GS_SOCKET_NO_SIGNAL, or that OR-ed with
 * HA_GS_ENABLE_ADAPTER_INFO. responsiveness_control may be NULL (no checks);
 * the library copies it. With HA_GS_PING_RESPONSIVENESS and a NULL
 * responsiveness_callback, ha_gs_dispatch answers HA_GS_CALLBACK_OK itself,
 * so a wedged dispatch loop still fails the check; an interval of 0 counts
 * as 1 second. deactivate_script is
 * NULL or "" (none) or an absolute path to an executable file, copied
 * during the call; the daemon runs it with this process's uid and gid
 * against this process's providers when they are expelled
 * (docs/deactivate-scripts.md). The callbacks may be NULL; query_callback
 * is accepted and never invoked.
 *
 * The caller must be root or a member of the group hagsuser.
 *
 * Returns:
 *   HA_GS_OK                 - connected
 *   HA_GS_EXISTS             - already connected; call ha_gs_quit first
 *   HA_GS_BAD_PARAMETER      - ha_gs_descriptor is NULL; socket_options is
 *                              not one of the two allowed values; the
 *                              responsiveness block has an unknown type, or
 *                              (counter) a NULL location or a length other
 *                              than 4 or 8; deactivate_script is relative,
 *                              longer than HA_GS_MAX_SCRIPT_PATH_LENGTH,
 *                              missing, not a regular file or not executable,
 *                              or the daemon refuses it: it checks as the
 *                              caller's user, and for root that only root
 *                              can change the script and every directory on
 *                              the way; its answer does not say which check
 *                              failed (docs/deactivate-scripts.md)
 *   HA_GS_SOCK_CREATE_FAILED - no socket could be created
 *   HA_GS_CONNECT_FAILED     - no daemon answers at the socket
 *   HA_GS_SOCK_INIT_FAILED   - the handshake with the daemon failed
 *   HA_GS_PERMISSION_DENIED  - neither root nor in the group hagsuser
 *   HA_GS_NO_MEMORY          - out of memory, or the daemon already serves
 *                              HA_GS_MAX_CLIENTS_PER_DAEMON clients, or as
 *                              many sessions of this user as it allows, or
 *                              too many connections wait for their first
 *                              message (docs/limits.md)
 *   HA_GS_FORKED_CHILD       - called in a child forked after ha_gs_init
 * Async errors: none.
 */
ha_gs_rc_t ha_gs_init(ha_gs_descriptor_t          *ha_gs_descriptor,
                      const ha_gs_socket_ctrl_t     socket_options,
                      const ha_gs_responsiveness_t *responsiveness_control,
                      const char                   *deactivate_script,
                      ha_gs_responsiveness_cb_t    *responsiveness_callback,
                      ha_gs_delayed_error_cb_t     *delayed_error_callback,
                      ha_gs_query_cb_t             *query_callback);

/*
 * ha_gs_join - ask to join a group as a provider.
 *
 * Reads proposal_info->gs_join_request. The group is named by
 * gs_group_attributes->gs_group_name; if it does not exist, the join
 * creates it with these attributes and is approved at once, otherwise the
 * join protocol runs (one- or n-phase per the attributes; the joiner does
 * not vote). On HA_GS_OK *provider_token holds the new token at once, but
 * the caller is a provider only when its approved notification arrives; a
 * rejected notification means it is not. The request block, the attributes
 * and the names are copied during the call; the callbacks are kept.
 *
 * Not every client may join every group (docs/access-control.md): the
 * client whose join creates a group owns it, and only root, the owner's
 * uid and the clients the caller's daemon grants it to (hagsd
 * --group-access, --group-rules) may join it afterwards. A group whose name
 * starts with "hags." is for root alone, whatever the daemon grants.
 *
 * Returns:
 *   HA_GS_OK                   - the request was sent
 *   HA_GS_NO_INIT              - ha_gs_init has not succeeded, or ha_gs_quit ran
 *   HA_GS_NOT_OK               - the connection to the daemon is lost
 *   HA_GS_BAD_PARAMETER        - provider_token, proposal_info or
 *                                gs_group_attributes is NULL; the group name
 *                                is NULL or empty; gs_provider_instance < 0
 *   HA_GS_NAME_TOO_LONG        - group or source group name longer than
 *                                HA_GS_MAX_GROUP_NAME_LENGTH, or local name
 *                                longer than HA_GS_MAX_LOCAL_NAME_LENGTH
 *   HA_GS_BAD_GROUP_ATTRIBUTES - wrong gs_version or
 *                                gs_sizeof_group_attributes, or an invalid
 *                                setting (phases, default vote, batch or
 *                                merge control)
 *   HA_GS_INVALID_SOURCE_GROUP - the source group is the group itself
 *   HA_GS_PERMISSION_DENIED    - the group name starts with "hags." and the
 *                                process was not root when it called
 *                                ha_gs_init
 *   HA_GS_NO_MEMORY            - out of memory
 *   HA_GS_FORKED_CHILD         - called in a child forked after ha_gs_init
 * Async errors:
 *   HA_GS_PERMISSION_DENIED         - another uid owns the group and the
 *                                     caller's daemon does not grant it to
 *                                     the caller (or a raw client asked for a
 *                                     "hags." group); this comes before any
 *                                     comparison with the group, and every
 *                                     later request with provider_token gets
 *                                     HA_GS_PERMISSION_DENIED too
 *   HA_GS_BAD_GROUP_ATTRIBUTES      - the attributes differ from the group's
 *   HA_GS_DUPLICATE_INSTANCE_NUMBER - the instance is taken on this node
 *   HA_GS_INVALID_SOURCE_GROUP      - the source group is itself a target
 *                                     group (no chains)
 *   HA_GS_NO_SOURCE_GROUP_PROVIDER  - the source group does not exist or has
 *                                     no provider
 *   HA_GS_INVALID_GROUP             - the group is HA_GS_HOST_MEMBERSHIP_GROUP,
 *                                     which may be subscribed to, not joined
 *   HA_GS_NO_MEMORY                 - the group has HA_GS_MAX_PROVIDERS_PER_GROUP
 *                                     providers, or the domain
 *                                     HA_GS_MAX_GROUPS_PER_DOMAIN groups, or
 *                                     this session has named
 *                                     HA_GS_MAX_TOKENS_PER_CLIENT tokens
 */
ha_gs_rc_t ha_gs_join(ha_gs_token_t               *provider_token,
                      const ha_gs_proposal_info_t *proposal_info);

/*
 * ha_gs_leave - propose that the calling provider leave its group.
 *
 * Reads proposal_info->gs_leave_request (copied during the call). The
 * leave runs as a one- or n-phase protocol in which the leaver votes too;
 * the membership ends with its approved notification, where the others see
 * HA_GS_PROVIDER_LEFT and gs_leave_code.
 *
 * Returns:
 *   HA_GS_OK               - the proposal was sent
 *   HA_GS_NO_INIT          - ha_gs_init has not succeeded, or ha_gs_quit ran
 *   HA_GS_NOT_OK           - the connection to the daemon is lost
 *   HA_GS_BAD_MEMBER_TOKEN - provider_token was never issued as a provider token
 *   HA_GS_NOT_A_MEMBER     - the membership has ended
 *   HA_GS_PERMISSION_DENIED - provider_token's join was refused for lack
 *                             of permission (see ha_gs_join)
 *   HA_GS_BAD_PARAMETER    - proposal_info is NULL, or gs_num_phases is
 *                            neither HA_GS_1_PHASE nor HA_GS_N_PHASE
 *   HA_GS_COLLIDE          - the group is running a protocol, or this
 *                            provider has a proposal outstanding
 *   HA_GS_FORKED_CHILD     - called in a child forked after ha_gs_init
 * Async errors:
 *   HA_GS_COLLIDE          - another protocol started first
 *   HA_GS_NOT_A_MEMBER     - the membership ended meanwhile
 *   HA_GS_PERMISSION_DENIED - the same, for a request sent before that
 *                             refusal reached the library
 */
ha_gs_rc_t ha_gs_leave(ha_gs_token_t                provider_token,
                       const ha_gs_proposal_info_t *proposal_info);

/*
 * ha_gs_goodbye - leave the group at once.
 *
 * The membership ends when the call returns HA_GS_OK: no notification for
 * provider_token is delivered afterwards. The others see a failure leave
 * with HA_GS_PROVIDER_SAID_GOODBYE; a running protocol counts the group's
 * default vote for this provider.
 *
 * Returns:
 *   HA_GS_OK               - the membership has ended
 *   HA_GS_NO_INIT          - ha_gs_init has not succeeded, or ha_gs_quit ran
 *   HA_GS_NOT_OK           - the connection to the daemon is lost
 *   HA_GS_BAD_MEMBER_TOKEN - provider_token was never issued as a provider token
 *   HA_GS_NOT_A_MEMBER     - the membership had already ended
 *   HA_GS_PERMISSION_DENIED - provider_token's join was refused for lack
 *                             of permission (see ha_gs_join)
 *   HA_GS_FORKED_CHILD     - called in a child forked after ha_gs_init
 * Async errors: none. (IBM lists HA_GS_BACKLEVEL_PROVIDERS; hags has no
 * back-level providers.)
 */
ha_gs_rc_t ha_gs_goodbye(ha_gs_token_t provider_token);

/*
 * ha_gs_expel - propose to expel providers from the group.
 *
 * Reads proposal_info->gs_expel_request (copied during the call, list and
 * flag included). Any provider may propose, itself included. The expelled
 * providers do not vote and hear nothing unless the expel is approved; then
 * they receive the approved notification and their tokens are refused with
 * HA_GS_NOT_A_MEMBER. With gs_deactivate_phase k >= 1 the daemon runs each
 * expelled provider's deactivate script at the start of phase k, bounded by
 * gs_time_limit, with gs_deactivate_flag as an argument; results reach the
 * voters in gs_expel_info of that phase's notifications.
 *
 * Returns:
 *   HA_GS_OK                       - the proposal was sent
 *   HA_GS_NO_INIT                  - ha_gs_init has not succeeded, or ha_gs_quit ran
 *   HA_GS_NOT_OK                   - the connection to the daemon is lost
 *   HA_GS_BAD_MEMBER_TOKEN         - provider_token was never issued as a
 *                                    provider token
 *   HA_GS_NOT_A_MEMBER             - the membership has ended
 *   HA_GS_PERMISSION_DENIED        - provider_token's join was refused for
 *                                    lack of permission (see ha_gs_join)
 *   HA_GS_BAD_PARAMETER            - proposal_info is NULL; gs_num_phases is
 *                                    not HA_GS_1_PHASE or HA_GS_N_PHASE; the
 *                                    expel list is empty or gs_providers NULL
 *   HA_GS_PROVIDER_APPEARS_TWICE   - a provider is listed twice
 *   HA_GS_INVALID_DEACTIVATE_PHASE - gs_deactivate_phase > 1 with HA_GS_1_PHASE
 *   HA_GS_COLLIDE                  - the group is running a protocol, or this
 *                                    provider has a proposal outstanding
 *   HA_GS_FORKED_CHILD             - called in a child forked after ha_gs_init
 * Async errors:
 *   HA_GS_UNKNOWN_PROVIDER         - a listed provider is not in the group
 *   HA_GS_COLLIDE                  - another protocol started first
 *   HA_GS_NOT_A_MEMBER             - the membership ended meanwhile
 *   HA_GS_PERMISSION_DENIED        - the same, for a request sent before that
 *                                    refusal reached the library
 * IBM also lists HA_GS_NOT_SUPPORTED (sync) and HA_GS_BAD_PARAMETER (async);
 * hags never returns the first and finds every bad parameter synchronously.
 */
ha_gs_rc_t ha_gs_expel(ha_gs_token_t                provider_token,
                       const ha_gs_proposal_info_t *proposal_info);

/*
 * ha_gs_change_state_value - propose a new state value for the group.
 *
 * Reads proposal_info->gs_state_change_request; the value is copied during
 * the call. Providers see the current and the proposed value in every
 * notification; subscribers see the value once approved.
 *
 * Returns:
 *   HA_GS_OK                   - the proposal was sent
 *   HA_GS_NO_INIT              - ha_gs_init has not succeeded, or ha_gs_quit ran
 *   HA_GS_NOT_OK               - the connection to the daemon is lost
 *   HA_GS_BAD_MEMBER_TOKEN     - provider_token was never issued as a provider token
 *   HA_GS_NOT_A_MEMBER         - the membership has ended
 *   HA_GS_PERMISSION_DENIED    - provider_token's join was refused for lack of
 *                                permission (see ha_gs_join)
 *   HA_GS_BAD_PARAMETER        - proposal_info or gs_new_state is NULL, a
 *                                negative length, a NULL gs_state with a
 *                                positive length, or a bad gs_num_phases
 *   HA_GS_STATE_VALUE_TOO_LONG - longer than HA_GS_MAX_STATE_VALUE_LENGTH
 *   HA_GS_COLLIDE              - the group is running a protocol, or this
 *                                provider has a proposal outstanding
 *   HA_GS_FORKED_CHILD         - called in a child forked after ha_gs_init
 * Async errors:
 *   HA_GS_COLLIDE              - another protocol started first
 *   HA_GS_NOT_A_MEMBER         - the membership ended meanwhile
 *   HA_GS_PERMISSION_DENIED    - the same, for a request sent before that
 *                                refusal reached the library
 */
ha_gs_rc_t ha_gs_change_state_value(ha_gs_token_t                provider_token,
                                    const ha_gs_proposal_info_t *proposal_info);

/*
 * ha_gs_send_message - broadcast a provider message through a protocol.
 *
 * Reads proposal_info->gs_message_request; the message is copied during
 * the call. Providers (not subscribers) receive it in gs_provider_message.
 *
 * Returns:
 *   HA_GS_OK               - the proposal was sent
 *   HA_GS_NO_INIT          - ha_gs_init has not succeeded, or ha_gs_quit ran
 *   HA_GS_NOT_OK           - the connection to the daemon is lost
 *   HA_GS_BAD_MEMBER_TOKEN - provider_token was never issued as a provider token
 *   HA_GS_NOT_A_MEMBER     - the membership has ended
 *   HA_GS_PERMISSION_DENIED - provider_token's join was refused for lack
 *                             of permission (see ha_gs_join)
 *   HA_GS_BAD_PARAMETER    - proposal_info or gs_message is NULL, a negative
 *                            length, a NULL gs_message->gs_message with a
 *                            positive length, or a bad gs_num_phases
 *   HA_GS_MESSAGE_TOO_LONG - longer than HA_GS_MAX_PROVIDER_MESSAGE_LENGTH
 *   HA_GS_COLLIDE          - the group is running a protocol, or this
 *                            provider has a proposal outstanding
 *   HA_GS_FORKED_CHILD     - called in a child forked after ha_gs_init
 * Async errors:
 *   HA_GS_COLLIDE          - another protocol started first
 *   HA_GS_NOT_A_MEMBER     - the membership ended meanwhile
 *   HA_GS_PERMISSION_DENIED - the same, for a request sent before that
 *                             refusal reached the library
 */
ha_gs_rc_t ha_gs_send_message(ha_gs_token_t                provider_token,
                              const ha_gs_proposal_info_t *proposal_info);

/*
 * ha_gs_change_attributes - propose new attributes for the group.
 *
 * Reads proposal_info->gs_change_attributes_request; the attributes are
 * copied during the call. The group name cannot change.
 *
 * Returns:
 *   HA_GS_OK                   - the proposal was sent
 *   HA_GS_NO_INIT              - ha_gs_init has not succeeded, or ha_gs_quit ran
 *   HA_GS_NOT_OK               - the connection to the daemon is lost
 *   HA_GS_BAD_MEMBER_TOKEN     - provider_token was never issued as a provider token
 *   HA_GS_NOT_A_MEMBER         - the membership has ended
 *   HA_GS_PERMISSION_DENIED    - provider_token's join was refused for lack of
 *                                permission (see ha_gs_join)
 *   HA_GS_BAD_PARAMETER        - proposal_info or gs_group_attributes is
 *                                NULL, or a bad gs_num_phases
 *   HA_GS_BAD_GROUP_ATTRIBUTES - wrong version or size, or an invalid setting
 *   HA_GS_NAME_TOO_LONG        - a name longer than HA_GS_MAX_GROUP_NAME_LENGTH
 *   HA_GS_COLLIDE              - the group is running a protocol, or this
 *                                provider has a proposal outstanding
 *   HA_GS_FORKED_CHILD         - called in a child forked after ha_gs_init
 * Async errors:
 *   HA_GS_BAD_GROUP_ATTRIBUTES - the group name differs from the group's
 *   HA_GS_INVALID_SOURCE_GROUP - the source group would change
 *   HA_GS_COLLIDE              - another protocol started first
 *   HA_GS_NOT_A_MEMBER         - the membership ended meanwhile
 *   HA_GS_PERMISSION_DENIED    - the same, for a request sent before that
 *                                refusal reached the library
 */
ha_gs_rc_t ha_gs_change_attributes(ha_gs_token_t                provider_token,
                                   const ha_gs_proposal_info_t *proposal_info);

/*
 * ha_gs_vote - vote in the phase that awaits this provider's vote.
 *
 * May be called inside the n-phase callback or after it returns. The
 * optional proposed_state_value and provider_message (NULL: none) are copied
 * during the call and reach the providers with the next notification of
 * the protocol. default_vote_value becomes this provider's default vote,
 * the vote counted for it in later phases of the protocol should it fail or
 * say goodbye (HA_GS_NULL_VOTE keeps the current one).
 *
 * Returns:
 *   HA_GS_OK                   - the vote was sent
 *   HA_GS_NO_INIT              - ha_gs_init has not succeeded, or ha_gs_quit ran
 *   HA_GS_NOT_OK               - the connection to the daemon is lost
 *   HA_GS_BAD_MEMBER_TOKEN     - provider_token was never issued as a provider token
 *   HA_GS_NOT_A_MEMBER         - the membership has ended
 *   HA_GS_PERMISSION_DENIED    - provider_token's join was refused for lack of
 *                                permission (see ha_gs_join)
 *   HA_GS_BAD_PARAMETER        - vote_value not APPROVE, CONTINUE or REJECT;
 *                                default_vote_value not NULL, APPROVE or
 *                                REJECT; a negative length or a NULL data
 *                                pointer with a positive length
 *   HA_GS_STATE_VALUE_TOO_LONG - proposed state value too long
 *   HA_GS_MESSAGE_TOO_LONG     - provider message too long
 *   HA_GS_VOTE_NOT_EXPECTED    - no phase awaits this provider's vote
 *   HA_GS_FORKED_CHILD         - called in a child forked after ha_gs_init
 * Async errors:
 *   HA_GS_VOTE_NOT_EXPECTED    - the phase ended before the vote arrived
 *   HA_GS_NOT_A_MEMBER         - the membership ended meanwhile
 *   HA_GS_PERMISSION_DENIED    - the same, for a request sent before that
 *                                refusal reached the library
 */
ha_gs_rc_t ha_gs_vote(ha_gs_token_t                   provider_token,
                      ha_gs_vote_value_t              vote_value,
                      const ha_gs_state_value_t      *proposed_state_value,
                      const ha_gs_provider_message_t *provider_message,
                      ha_gs_vote_value_t              default_vote_value);

/*
 * ha_gs_subscribe - watch a group without taking part in it.
 *
 * Reads proposal_info->gs_subscribe_request (the group name is copied; the
 * callback is kept). On HA_GS_OK *subscriber_token holds the new token.
 * The first notification reports the group as it is; later ones report
 * approved changes. Provider messages are not shown to subscribers. When
 * the last provider leaves, HA_GS_SUBSCRIPTION_DISSOLVED ends the
 * subscription.
 *
 * Returns:
 *   HA_GS_OK            - the request was sent
 *   HA_GS_NO_INIT       - ha_gs_init has not succeeded, or ha_gs_quit ran
 *   HA_GS_NOT_OK        - the connection to the daemon is lost
 *   HA_GS_BAD_PARAMETER - subscriber_token or proposal_info is NULL; the
 *                         group name is NULL or empty; the control has
 *                         unknown bits or asks for nothing
 *   HA_GS_NAME_TOO_LONG - group name longer than HA_GS_MAX_GROUP_NAME_LENGTH
 *   HA_GS_NO_MEMORY     - out of memory
 *   HA_GS_FORKED_CHILD  - called in a child forked after ha_gs_init
 * Async errors:
 *   HA_GS_UNKNOWN_GROUP - no group of that name exists
 *   HA_GS_NO_MEMORY     - this session has named HA_GS_MAX_TOKENS_PER_CLIENT
 *                         tokens
 */
ha_gs_rc_t ha_gs_subscribe(ha_gs_token_t               *subscriber_token,
                           const ha_gs_proposal_info_t *proposal_info);

/*
 * ha_gs_unsubscribe - end a subscription.
 *
 * No notification for subscriber_token is delivered after the call
 * returns HA_GS_OK.
 *
 * Returns:
 *   HA_GS_OK               - the subscription has ended
 *   HA_GS_NO_INIT          - ha_gs_init has not succeeded, or ha_gs_quit ran
 *   HA_GS_NOT_OK           - the connection to the daemon is lost
 *   HA_GS_BAD_MEMBER_TOKEN - subscriber_token was never issued as a
 *                            subscriber token, or its subscription has
 *                            already ended (unsubscribed, refused, or its
 *                            group dissolved)
 *   HA_GS_FORKED_CHILD     - called in a child forked after ha_gs_init
 * Async errors: none.
 */
ha_gs_rc_t ha_gs_unsubscribe(ha_gs_token_t subscriber_token);

/*
 * ha_gs_dispatch - deliver waiting notifications by calling the callbacks.
 *
 * Callbacks run on the calling thread, before ha_gs_dispatch returns, one
 * at a time and in arrival order. A callback may call ha_gs_vote and the
 * other requests. A callback must not call ha_gs_dispatch (it returns
 * HA_GS_BAD_PARAMETER there, delivering nothing); ha_gs_quit called from a
 * callback closes the connection, and the dispatch returns HA_GS_NO_INIT
 * once the callback has returned. The notification blocks belong to the
 * library until the callback returns.
 *
 * HA_GS_NON_BLOCKING delivers every notification that has arrived, then
 * returns. HA_GS_BLOCKING keeps delivering as notifications arrive and
 * returns only on error, or with HA_GS_NO_INIT promptly after ha_gs_quit
 * from another thread.
 *
 * Returns:
 *   HA_GS_OK            - HA_GS_NON_BLOCKING: everything waiting was delivered
 *   HA_GS_NO_INIT       - ha_gs_init has not succeeded, or ha_gs_quit ran
 *   HA_GS_NOT_OK        - the connection to the daemon is lost
 *   HA_GS_BAD_PARAMETER - dispatch_flags is neither HA_GS_NON_BLOCKING nor
 *                         HA_GS_BLOCKING, or the call comes from a callback
 *   HA_GS_FORKED_CHILD  - called in a child forked after ha_gs_init
 * Async errors: none.
 */
ha_gs_rc_t ha_gs_dispatch(const ha_gs_dispatch_flag_t dispatch_flags);

/*
 * ha_gs_quit - close the connection to the daemon.
 *
 * Every membership ends as a failure leave (HA_GS_PROVIDER_SAID_GOODBYE)
 * and every subscription ends. Notifications not yet delivered are
 * dropped. A blocking ha_gs_dispatch in another thread returns promptly.
 * Afterwards every function returns HA_GS_NO_INIT until ha_gs_init
 * succeeds again. Does nothing before ha_gs_init, and in a forked child it
 * returns without touching the parent's connection.
 */
void ha_gs_quit(void);

/*
 * ha_gs_get_node_number - get the number of the local node.
 *
 * Stores in *node_number the node number the daemon reported at
 * ha_gs_init, the gs_node_number of this node's providers.
 *
 * Returns:
 *   HA_GS_OK            - *node_number is set
 *   HA_GS_NO_INIT       - ha_gs_init has not succeeded, or ha_gs_quit ran
 *   HA_GS_BAD_PARAMETER - node_number is NULL
 *   HA_GS_FORKED_CHILD  - called in a child forked after ha_gs_init
 * Async errors: none.
 */
ha_gs_rc_t ha_gs_get_node_number(int *node_number);

/*
 * ha_gs_get_adapter_info - map an adapter's IP address to its node and
 * interface.
 *
 * Reads adapter->ip_addr.ip4 (network byte order) and sets
 * adapter->node_number and adapter->interface_name; the name belongs to the
 * library and stays valid until ha_gs_quit. Needs HA_GS_ENABLE_ADAPTER_INFO
 * at ha_gs_init.
 *
 * Returns:
 *   HA_GS_OK              - the adapter was found
 *   HA_GS_NO_INIT         - ha_gs_init has not succeeded, or ha_gs_quit ran
 *   HA_GS_BAD_PARAMETER   - adapter is NULL
 *   HA_GS_NO_ADAPTER_INFO - no mapping for that address, or adapter
 *                           information was not enabled at ha_gs_init
 *   HA_GS_FORKED_CHILD    - called in a child forked after ha_gs_init
 * Async errors: none.
 */
ha_gs_rc_t ha_gs_get_adapter_info(ha_gs_adapter_info *adapter);

/*
 * ha_gs_get_ffdc_id - get the FFDC id of the daemon's last failure.
 *
 * Copies the id, NUL-terminated, into fid (sizeof(fc_eid_t) bytes). The id
 * is reset by ha_gs_init.
 *
 * Returns:
 *   HA_GS_OK            - fid holds an id
 *   HA_GS_NOT_OK        - no id was received
 *   HA_GS_NO_INIT       - ha_gs_init has not succeeded, or ha_gs_quit ran
 *   HA_GS_BAD_PARAMETER - fid is NULL
 *   HA_GS_FORKED_CHILD  - called in a child forked after ha_gs_init
 * Async errors: none.
 */
ha_gs_rc_t ha_gs_get_ffdc_id(fc_eid_t fid);

#ifdef __cplusplus
}
#endif

#endif /* HA_GS_H */
