/*
 * conformance.c - pins down include/ha_gs.h (docs/c-contract.md).
 *
 * Compiled, never linked or run, by capi/headertest as C99, C11, C++11 and
 * C++17 with -Wall -Wextra -Werror. It uses every function with its exact
 * signature, every type, every constant (in switches, so values are distinct
 * and -Wswitch proves the lists complete), and every structure field: a
 * mirror structure written from docs/c-contract.md must have the same size and the
 * same offsets, and in C++ each field's type must match exactly.
 */
#include <ha_gs.h>

#include <stddef.h>

#if defined(__cplusplus)
#define STATIC_CHECK(cond, name) static_assert(cond, #name)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define STATIC_CHECK(cond, name) _Static_assert(cond, #name)
#else
#define STATIC_CHECK(cond, name) typedef char static_check_##name[(cond) ? 1 : -1]
#endif

/* ---- scalar types ---------------------------------------------------- */

STATIC_CHECK(sizeof(ha_gs_descriptor_t) == sizeof(int), descriptor_is_int);
STATIC_CHECK(sizeof(ha_gs_token_t) == sizeof(int), token_is_int);
STATIC_CHECK(sizeof(ha_gs_time_limit_t) == sizeof(unsigned int), time_limit_is_uint);
STATIC_CHECK(sizeof(ha_gs_group_name_t) == sizeof(char *), group_name_is_pointer);
STATIC_CHECK(sizeof(fc_eid_t) == 64, fc_eid_is_64_bytes);
STATIC_CHECK(sizeof(ha_gs_adapter_death_t) == 4, adapter_death_is_4_bytes);
STATIC_CHECK((ha_gs_time_limit_t)-1 > 0, time_limit_is_unsigned);
STATIC_CHECK((ha_gs_adapter_death_t)-1 > 0, adapter_death_is_unsigned);

/* Every enumeration and flag type is four bytes wide (the wire's int32). */
#define FOUR_BYTES(T) STATIC_CHECK(sizeof(T) == 4, T##_is_4_bytes);
FOUR_BYTES(ha_gs_rc_t)
FOUR_BYTES(ha_gs_num_phases_t)
FOUR_BYTES(ha_gs_vote_value_t)
FOUR_BYTES(ha_gs_socket_ctrl_t)
FOUR_BYTES(ha_gs_dispatch_flag_t)
FOUR_BYTES(ha_gs_notification_type_t)
FOUR_BYTES(ha_gs_request_t)
FOUR_BYTES(ha_gs_summary_code_t)
FOUR_BYTES(ha_gs_whats_changed_t)
FOUR_BYTES(ha_gs_leave_reason_t)
FOUR_BYTES(ha_gs_deactivate_result_t)
FOUR_BYTES(ha_gs_batch_ctrl_t)
FOUR_BYTES(ha_gs_merge_ctrl_t)
FOUR_BYTES(ha_gs_responsiveness_type_t)
FOUR_BYTES(ha_gs_callback_rc_t)
FOUR_BYTES(ha_gs_subscription_ctrl_t)
FOUR_BYTES(ha_gs_subscription_type_t)

/* ---- constants --------------------------------------------------------- */

STATIC_CHECK(HA_GS_OK == 0, ok_is_zero);
STATIC_CHECK(HA_GS_SUBSCRIBE_ALL_MEMBERSHIP ==
                 (HA_GS_SUBSCRIBE_DELTA_JOINS | HA_GS_SUBSCRIBE_DELTA_LEAVES),
             all_membership_is_joins_and_leaves);
STATIC_CHECK(HA_GS_MAX_GROUP_NAME_LENGTH == 127, max_group_name);
STATIC_CHECK(HA_GS_MAX_STATE_VALUE_LENGTH == 16384, max_state_value);
STATIC_CHECK(HA_GS_MAX_PROVIDER_MESSAGE_LENGTH == 16384, max_provider_message);
STATIC_CHECK(HA_GS_MAX_DEACTIVATE_FLAG_LENGTH == 256, max_deactivate_flag);
STATIC_CHECK(HA_GS_GROUP_ATTRIBUTES_VERSION == 1, attributes_version);
STATIC_CHECK(sizeof(HA_GS_HOST_MEMBERSHIP_GROUP) == sizeof("HostMembership"), host_group);
STATIC_CHECK(sizeof(HA_GS_DOMAIN_ENV) == sizeof("HA_DOMAIN_NAME"), domain_env);
STATIC_CHECK(sizeof(HA_GS_SOCKET_ENV) == sizeof("HA_GS_SOCKET"), socket_env);

/* The macros are usable in #if. */
#if HA_GS_MAX_GROUP_NAME_LENGTH + HA_GS_MAX_STATE_VALUE_LENGTH + \
    HA_GS_MAX_PROVIDER_MESSAGE_LENGTH + HA_GS_MAX_DEACTIVATE_FLAG_LENGTH + \
    HA_GS_GROUP_ATTRIBUTES_VERSION + HA_GS_MAX_PROVIDERS_PER_GROUP + \
    HA_GS_MAX_GROUPS_PER_DOMAIN + HA_GS_MAX_CLIENTS_PER_DAEMON + \
    HA_GS_MAX_LOCAL_NAME_LENGTH + HA_GS_MAX_SCRIPT_PATH_LENGTH == 0
#error "limit macros must be usable in #if"
#endif

#define RC_LIST(X) X(HA_GS_OK) X(HA_GS_NOT_OK) X(HA_GS_EXISTS) X(HA_GS_NO_INIT) \
    X(HA_GS_NAME_TOO_LONG) X(HA_GS_NO_MEMORY) X(HA_GS_NOT_A_MEMBER) \
    X(HA_GS_BAD_CLIENT_TOKEN) X(HA_GS_BAD_MEMBER_TOKEN) X(HA_GS_BAD_PARAMETER) \
    X(HA_GS_UNKNOWN_GROUP) X(HA_GS_INVALID_GROUP) X(HA_GS_NO_SOURCE_GROUP_PROVIDER) \
    X(HA_GS_BAD_GROUP_ATTRIBUTES) X(HA_GS_WRONG_OLD_STATE) \
    X(HA_GS_DUPLICATE_INSTANCE_NUMBER) X(HA_GS_COLLIDE) X(HA_GS_SOCK_CREATE_FAILED) \
    X(HA_GS_SOCK_INIT_FAILED) X(HA_GS_CONNECT_FAILED) X(HA_GS_VOTE_NOT_EXPECTED) \
    X(HA_GS_NOT_SUPPORTED) X(HA_GS_INVALID_SOURCE_GROUP) X(HA_GS_UNKNOWN_PROVIDER) \
    X(HA_GS_PROVIDER_APPEARS_TWICE) X(HA_GS_INVALID_DEACTIVATE_PHASE) \
    X(HA_GS_BACKLEVEL_PROVIDERS) X(HA_GS_STATE_VALUE_TOO_LONG) X(HA_GS_MESSAGE_TOO_LONG) \
    X(HA_GS_PERMISSION_DENIED) X(HA_GS_NO_ADAPTER_INFO) X(HA_GS_FORKED_CHILD)
#define NUM_PHASES_LIST(X) X(HA_GS_1_PHASE) X(HA_GS_N_PHASE)
#define VOTE_LIST(X) X(HA_GS_NULL_VOTE) X(HA_GS_VOTE_APPROVE) X(HA_GS_VOTE_CONTINUE) \
    X(HA_GS_VOTE_REJECT)
#define DISPATCH_LIST(X) X(HA_GS_NON_BLOCKING) X(HA_GS_BLOCKING)
#define NOTIFICATION_LIST(X) X(HA_GS_N_PHASE_NOTIFICATION) X(HA_GS_APPROVED_NOTIFICATION) \
    X(HA_GS_REJECTED_NOTIFICATION) X(HA_GS_ANNOUNCEMENT_NOTIFICATION) \
    X(HA_GS_SUBSCRIPTION_NOTIFICATION) X(HA_GS_DELAYED_ERROR_NOTIFICATION) \
    X(HA_GS_RESPONSIVENESS_NOTIFICATION) X(HA_GS_QUERY_NOTIFICATION) \
    X(HA_GS_MERGE_NOTIFICATION)
#define REQUEST_LIST(X) X(HA_GS_JOIN) X(HA_GS_FAILURE_LEAVE) X(HA_GS_LEAVE) X(HA_GS_EXPEL) \
    X(HA_GS_STATE_VALUE_CHANGE) X(HA_GS_PROVIDER_MESSAGE) X(HA_GS_CAST_OUT) \
    X(HA_GS_SOURCE_STATE_REFLECTION) X(HA_GS_MERGE) X(HA_GS_SUBSCRIPTION) \
    X(HA_GS_GROUP_ATTRIBUTE_CHANGE)
#define LEAVE_REASON_LIST(X) X(HA_GS_PROVIDER_LEFT) X(HA_GS_PROVIDER_PROCESS_DIED) \
    X(HA_GS_PROVIDER_NODE_DIED) X(HA_GS_PROVIDER_SAID_GOODBYE) X(HA_GS_PROVIDER_EXPELLED) \
    X(HA_GS_PROVIDER_CAST_OUT)
#define DEACTIVATE_LIST(X) X(HA_GS_DEACTIVATE_NOT_RUN) X(HA_GS_DEACTIVATE_OK) \
    X(HA_GS_DEACTIVATE_FAILED) X(HA_GS_DEACTIVATE_TIMED_OUT)
#define BATCH_LIST(X) X(HA_GS_NO_BATCHING) X(HA_GS_BATCH_JOINS) \
    X(HA_GS_BATCH_FAILURE_LEAVES) X(HA_GS_BATCH_BOTH)
#define MERGE_LIST(X) X(HA_GS_DISSOLVE_MERGE) X(HA_GS_DONT_MERGE)
#define RESPONSIVENESS_LIST(X) X(HA_GS_NO_RESPONSIVENESS) X(HA_GS_PING_RESPONSIVENESS) \
    X(HA_GS_COUNTER_RESPONSIVENESS)
#define CALLBACK_RC_LIST(X) X(HA_GS_CALLBACK_OK) X(HA_GS_CALLBACK_NOT_OK)

#define SOCKET_CTRL_LIST(X) X(HA_GS_SOCKET_NO_SIGNAL) X(HA_GS_ENABLE_ADAPTER_INFO)
#define SUMMARY_LIST(X) X(HA_GS_EXPLICIT_APPROVE) X(HA_GS_EXPLICIT_REJECT) \
    X(HA_GS_DEFAULT_APPROVE) X(HA_GS_DEFAULT_REJECT) X(HA_GS_TIME_LIMIT_EXCEEDED) \
    X(HA_GS_PROVIDER_FAILURE) X(HA_GS_RESPONSIVENESS_NO_RESPONSE) \
    X(HA_GS_RESPONSIVENESS_RESPONSE) X(HA_GS_DEACTIVATE_SUCCESSFUL) \
    X(HA_GS_DEACTIVATE_UNSUCCESSFUL) X(HA_GS_DEACTIVATE_TIME_LIMIT_EXCEEDED) \
    X(HA_GS_GROUP_DISSOLVED) X(HA_GS_GROUP_SERVICES_HAS_DIED_HORRIBLY)
#define WHATS_CHANGED_LIST(X) X(HA_GS_CHANGE_MEMBERSHIP) X(HA_GS_CHANGE_STATE_VALUE) \
    X(HA_GS_CHANGE_PROVIDER_MESSAGE) X(HA_GS_CHANGE_ATTRIBUTES)
#define SUBSCRIBE_LIST(X) X(HA_GS_SUBSCRIBE_STATE_VALUE) X(HA_GS_SUBSCRIBE_DELTA_JOINS) \
    X(HA_GS_SUBSCRIBE_DELTA_LEAVES) X(HA_GS_SUBSCRIBE_ALL_MEMBERSHIP) \
    X(HA_GS_SUBSCRIBE_DELTAS_ONLY)
#define SUBSCRIPTION_TYPE_LIST(X) X(HA_GS_SUBSCRIPTION_STATE_VALUE) \
    X(HA_GS_SUBSCRIPTION_DELTA_JOIN) X(HA_GS_SUBSCRIPTION_DELTA_LEAVE) \
    X(HA_GS_SUBSCRIPTION_DISSOLVED) X(HA_GS_SUBSCRIPTION_SPECIAL_DATA)
#define SPECIAL_LIST(X) X(HA_GS_CURRENT_ADAPTER_ALIAS_ARRAY) \
    X(HA_GS_CHANGING_ADAPTER_ALIAS_ARRAY) X(HA_GS_ADAPTER_DEATH_ARRAY)
#define ADAPTER_DEATH_LIST(X) X(HA_GS_ADAPTER_FAILED) X(HA_GS_ADAPTER_DECONFIGURED)

#define CASE(c) case c:
#define ACCEPT(c) v = c; n += (int)v;

/*
 * For an enumeration: every constant converts to the type (C++ refuses a
 * constant of another enumeration), the case labels are distinct, and with
 * no default label -Wswitch fails the build if the header has a member the
 * list lacks.
 */
#define ENUM_CHECK(fn, T, LIST)                                   \
    static int fn(T w)                                            \
    {                                                             \
        T v;                                                      \
        int n = 0;                                                \
        LIST(ACCEPT)                                              \
        switch (w) {                                              \
        LIST(CASE)                                                \
            return n;                                             \
        }                                                         \
        return -1;                                                \
    }

/* For a flag set: the constants convert to the type and are distinct. */
#define FLAGS_CHECK(fn, T, LIST)                                  \
    static int fn(T w)                                            \
    {                                                             \
        T v;                                                      \
        int n = 0;                                                \
        LIST(ACCEPT)                                              \
        switch (w) {                                              \
        LIST(CASE)                                                \
            return n;                                             \
        default:                                                  \
            return -1;                                            \
        }                                                         \
    }

ENUM_CHECK(check_rc, ha_gs_rc_t, RC_LIST)
ENUM_CHECK(check_num_phases, ha_gs_num_phases_t, NUM_PHASES_LIST)
ENUM_CHECK(check_vote, ha_gs_vote_value_t, VOTE_LIST)
ENUM_CHECK(check_dispatch, ha_gs_dispatch_flag_t, DISPATCH_LIST)
ENUM_CHECK(check_notification, ha_gs_notification_type_t, NOTIFICATION_LIST)
ENUM_CHECK(check_request, ha_gs_request_t, REQUEST_LIST)
ENUM_CHECK(check_leave_reason, ha_gs_leave_reason_t, LEAVE_REASON_LIST)
ENUM_CHECK(check_deactivate, ha_gs_deactivate_result_t, DEACTIVATE_LIST)
ENUM_CHECK(check_batch, ha_gs_batch_ctrl_t, BATCH_LIST)
ENUM_CHECK(check_merge, ha_gs_merge_ctrl_t, MERGE_LIST)
ENUM_CHECK(check_responsiveness, ha_gs_responsiveness_type_t, RESPONSIVENESS_LIST)
ENUM_CHECK(check_callback_rc, ha_gs_callback_rc_t, CALLBACK_RC_LIST)
FLAGS_CHECK(check_socket_ctrl, ha_gs_socket_ctrl_t, SOCKET_CTRL_LIST)
FLAGS_CHECK(check_summary, ha_gs_summary_code_t, SUMMARY_LIST)
FLAGS_CHECK(check_whats_changed, ha_gs_whats_changed_t, WHATS_CHANGED_LIST)
FLAGS_CHECK(check_subscribe, ha_gs_subscription_ctrl_t, SUBSCRIBE_LIST)
FLAGS_CHECK(check_subscription_type, ha_gs_subscription_type_t, SUBSCRIPTION_TYPE_LIST)
FLAGS_CHECK(check_special, unsigned int, SPECIAL_LIST)
FLAGS_CHECK(check_adapter_death, ha_gs_adapter_death_t, ADAPTER_DEATH_LIST)

/* ---- structures: field order, types and sizes ------------------------- */

/*
 * Each list gives a structure's fields in the documented order. A mirror
 * structure is built from the list; the real one must have the same size
 * and the same offset for every field, so no field is missing, added,
 * reordered or of another size. FIELD_TYPE checks each type exactly in C++.
 */
#define PROVIDER_FIELDS(X)                                   \
    X(ha_gs_provider_t, int, gs_instance_number)             \
    X(ha_gs_provider_t, int, gs_node_number)
#define MEMBERSHIP_FIELDS(X)                                 \
    X(ha_gs_membership_t, unsigned int, gs_count)            \
    X(ha_gs_membership_t, ha_gs_provider_t *, gs_providers)
#define STATE_VALUE_FIELDS(X)                                \
    X(ha_gs_state_value_t, int, gs_length)                   \
    X(ha_gs_state_value_t, char *, gs_state)
#define PROVIDER_MESSAGE_FIELDS(X)                           \
    X(ha_gs_provider_message_t, int, gs_length)              \
    X(ha_gs_provider_message_t, char *, gs_message)
#define GROUP_ATTRIBUTES_FIELDS(X)                                                   \
    X(ha_gs_group_attributes_t, short, gs_version)                                   \
    X(ha_gs_group_attributes_t, short, gs_sizeof_group_attributes)                   \
    X(ha_gs_group_attributes_t, ha_gs_batch_ctrl_t, gs_batch_control)                \
    X(ha_gs_group_attributes_t, ha_gs_num_phases_t, gs_num_phases)                   \
    X(ha_gs_group_attributes_t, ha_gs_num_phases_t, gs_source_reflection_num_phases) \
    X(ha_gs_group_attributes_t, ha_gs_vote_value_t, gs_group_default_vote)           \
    X(ha_gs_group_attributes_t, ha_gs_merge_ctrl_t, gs_merge_control)                \
    X(ha_gs_group_attributes_t, ha_gs_time_limit_t, gs_time_limit)                   \
    X(ha_gs_group_attributes_t, ha_gs_time_limit_t, gs_source_reflection_time_limit) \
    X(ha_gs_group_attributes_t, char *, gs_group_name)                               \
    X(ha_gs_group_attributes_t, char *, gs_source_group_name)
#define LEAVE_INFO_FIELDS(X)                                         \
    X(ha_gs_leave_info_t, ha_gs_leave_reason_t, gs_leave_reason)     \
    X(ha_gs_leave_info_t, unsigned int, gs_leave_code)
#define EXPEL_INFO_FIELDS(X)                                                     \
    X(ha_gs_expel_info_t, unsigned int, gs_deactivate_phase)                     \
    X(ha_gs_expel_info_t, char *, gs_deactivate_flag)                            \
    X(ha_gs_expel_info_t, ha_gs_deactivate_result_t *, gs_deactivate_results)
#define PROPOSAL_FIELDS(X)                                                   \
    X(ha_gs_proposal_t, unsigned int, gs_phase_number)                       \
    X(ha_gs_proposal_t, ha_gs_whats_changed_t, gs_whats_changed)             \
    X(ha_gs_proposal_t, ha_gs_membership_t *, gs_current_providers)          \
    X(ha_gs_proposal_t, ha_gs_membership_t *, gs_changing_providers)         \
    X(ha_gs_proposal_t, ha_gs_state_value_t *, gs_current_state_value)       \
    X(ha_gs_proposal_t, ha_gs_state_value_t *, gs_proposed_state_value)      \
    X(ha_gs_proposal_t, ha_gs_provider_message_t *, gs_provider_message)     \
    X(ha_gs_proposal_t, ha_gs_group_attributes_t *, gs_proposed_attributes)  \
    X(ha_gs_proposal_t, ha_gs_leave_info_t *, gs_leave_info)                 \
    X(ha_gs_proposal_t, ha_gs_expel_info_t *, gs_expel_info)
#define RESPONSIVENESS_FIELDS(X)                                                       \
    X(ha_gs_responsiveness_t, ha_gs_responsiveness_type_t, gs_responsiveness_type)     \
    X(ha_gs_responsiveness_t, unsigned int, gs_responsiveness_interval)                \
    X(ha_gs_responsiveness_t, unsigned int, gs_responsiveness_response_time_limit)     \
    X(ha_gs_responsiveness_t, void *, gs_counter_location)                             \
    X(ha_gs_responsiveness_t, unsigned int, gs_counter_length)
#define SPECIAL_BLOCK_FIELDS(X)                                                     \
    X(ha_gs_special_block_t, unsigned int, gs_special_flag)                         \
    X(ha_gs_special_block_t, ha_gs_special_block_t *, gs_next_special_block)        \
    X(ha_gs_special_block_t, int, gs_special_num_entries)                           \
    X(ha_gs_special_block_t, int, gs_special_length)                                \
    X(ha_gs_special_block_t, void *, gs_special)
#define SPECIAL_DATA_FIELDS(X)                                                      \
    X(ha_gs_special_data_t, int, gs_length)                                         \
    X(ha_gs_special_data_t, unsigned int, gs_flag)                                  \
    X(ha_gs_special_data_t, ha_gs_special_block_t *, gs_special_data)
#define ADAPTER_INFO_FIELDS(X)                                                      \
    X(ha_gs_adapter_info, ha_gs_ip_addr, ip_addr)                                   \
    X(ha_gs_adapter_info, short, node_number)                                       \
    X(ha_gs_adapter_info, const char *, interface_name)                             \
    X(ha_gs_adapter_info, ha_gs_provider_t, gs_member_id)                           \
    X(ha_gs_adapter_info, const ha_gs_group_name_t, gs_group_name)
#define JOIN_REQUEST_FIELDS(X)                                                          \
    X(ha_gs_join_request_t, ha_gs_group_attributes_t *, gs_group_attributes)            \
    X(ha_gs_join_request_t, short, gs_provider_instance)                                \
    X(ha_gs_join_request_t, char *, gs_provider_local_name)                             \
    X(ha_gs_join_request_t, ha_gs_n_phase_cb_t *, gs_n_phase_protocol_callback)         \
    X(ha_gs_join_request_t, ha_gs_approved_cb_t *, gs_protocol_approved_callback)       \
    X(ha_gs_join_request_t, ha_gs_rejected_cb_t *, gs_protocol_rejected_callback)       \
    X(ha_gs_join_request_t, ha_gs_announcement_cb_t *, gs_announcement_callback)        \
    X(ha_gs_join_request_t, ha_gs_merge_cb_t *, gs_merge_callback)
#define LEAVE_REQUEST_FIELDS(X)                                          \
    X(ha_gs_leave_request_t, ha_gs_num_phases_t, gs_num_phases)          \
    X(ha_gs_leave_request_t, ha_gs_time_limit_t, gs_time_limit)          \
    X(ha_gs_leave_request_t, unsigned int, gs_leave_code)
#define EXPEL_REQUEST_FIELDS(X)                                          \
    X(ha_gs_expel_request_t, ha_gs_num_phases_t, gs_num_phases)          \
    X(ha_gs_expel_request_t, ha_gs_time_limit_t, gs_time_limit)          \
    X(ha_gs_expel_request_t, ha_gs_membership_t, gs_expel_list)          \
    X(ha_gs_expel_request_t, unsigned int, gs_deactivate_phase)          \
    X(ha_gs_expel_request_t, char *, gs_deactivate_flag)
#define STATE_CHANGE_REQUEST_FIELDS(X)                                           \
    X(ha_gs_state_change_request_t, ha_gs_num_phases_t, gs_num_phases)           \
    X(ha_gs_state_change_request_t, ha_gs_time_limit_t, gs_time_limit)           \
    X(ha_gs_state_change_request_t, ha_gs_state_value_t *, gs_new_state)
#define MESSAGE_REQUEST_FIELDS(X)                                                \
    X(ha_gs_message_request_t, ha_gs_num_phases_t, gs_num_phases)                \
    X(ha_gs_message_request_t, ha_gs_time_limit_t, gs_time_limit)                \
    X(ha_gs_message_request_t, ha_gs_provider_message_t *, gs_message)
#define CHANGE_ATTRIBUTES_FIELDS(X)                                                     \
    X(ha_gs_change_attributes_t, ha_gs_num_phases_t, gs_num_phases)                     \
    X(ha_gs_change_attributes_t, ha_gs_time_limit_t, gs_time_limit)                     \
    X(ha_gs_change_attributes_t, ha_gs_group_attributes_t *, gs_group_attributes)       \
    X(ha_gs_change_attributes_t, ha_gs_membership_t *, gs_backlevel_providers)
#define SUBSCRIBE_REQUEST_FIELDS(X)                                                     \
    X(ha_gs_subscribe_request_t, ha_gs_subscription_ctrl_t, gs_subscription_control)    \
    X(ha_gs_subscribe_request_t, ha_gs_group_name_t, gs_subscription_group)             \
    X(ha_gs_subscribe_request_t, ha_gs_subscriber_cb_t *, gs_subscription_callback)
#define N_PHASE_FIELDS(X)                                                                   \
    X(ha_gs_n_phase_notification_t, ha_gs_notification_type_t, gs_notification_type)       \
    X(ha_gs_n_phase_notification_t, ha_gs_token_t, gs_provider_token)                       \
    X(ha_gs_n_phase_notification_t, ha_gs_request_t, gs_protocol_type)                      \
    X(ha_gs_n_phase_notification_t, ha_gs_summary_code_t, gs_summary_code)                  \
    X(ha_gs_n_phase_notification_t, ha_gs_time_limit_t, gs_time_limit)                      \
    X(ha_gs_n_phase_notification_t, ha_gs_proposal_t *, gs_proposal)
#define APPROVED_FIELDS(X)                                                                  \
    X(ha_gs_approved_notification_t, ha_gs_notification_type_t, gs_notification_type)      \
    X(ha_gs_approved_notification_t, ha_gs_token_t, gs_provider_token)                      \
    X(ha_gs_approved_notification_t, ha_gs_request_t, gs_protocol_type)                     \
    X(ha_gs_approved_notification_t, ha_gs_summary_code_t, gs_summary_code)                 \
    X(ha_gs_approved_notification_t, ha_gs_proposal_t *, gs_proposal)
#define REJECTED_FIELDS(X)                                                                  \
    X(ha_gs_rejected_notification_t, ha_gs_notification_type_t, gs_notification_type)      \
    X(ha_gs_rejected_notification_t, ha_gs_token_t, gs_provider_token)                      \
    X(ha_gs_rejected_notification_t, ha_gs_request_t, gs_protocol_type)                     \
    X(ha_gs_rejected_notification_t, ha_gs_summary_code_t, gs_summary_code)                 \
    X(ha_gs_rejected_notification_t, ha_gs_proposal_t *, gs_proposal)
#define ANNOUNCEMENT_FIELDS(X)                                                              \
    X(ha_gs_announcement_notification_t, ha_gs_notification_type_t, gs_notification_type)  \
    X(ha_gs_announcement_notification_t, ha_gs_token_t, gs_provider_token)                  \
    X(ha_gs_announcement_notification_t, ha_gs_summary_code_t, gs_summary_code)             \
    X(ha_gs_announcement_notification_t, ha_gs_membership_t *, gs_announcement)
#define MERGE_FIELDS(X)                                                                     \
    X(ha_gs_merge_notification_t, ha_gs_notification_type_t, gs_notification_type)         \
    X(ha_gs_merge_notification_t, ha_gs_token_t, gs_provider_token)
#define QUERY_FIELDS(X)                                                                     \
    X(ha_gs_query_notification_t, ha_gs_notification_type_t, gs_notification_type)         \
    X(ha_gs_query_notification_t, ha_gs_token_t, gs_provider_token)
#define SUBSCRIPTION_FIELDS(X)                                                                  \
    X(ha_gs_subscription_notification_t, ha_gs_notification_type_t, gs_notification_type)      \
    X(ha_gs_subscription_notification_t, ha_gs_token_t, gs_subscriber_token)                    \
    X(ha_gs_subscription_notification_t, ha_gs_subscription_type_t, gs_subscription_type)       \
    X(ha_gs_subscription_notification_t, ha_gs_state_value_t *, gs_state_value)                 \
    X(ha_gs_subscription_notification_t, ha_gs_membership_t *, gs_full_membership)              \
    X(ha_gs_subscription_notification_t, ha_gs_membership_t *, gs_changing_membership)          \
    X(ha_gs_subscription_notification_t, ha_gs_special_data_t *, gs_subscription_special_data)
#define DELAYED_ERROR_FIELDS(X)                                                                 \
    X(ha_gs_delayed_error_notification_t, ha_gs_notification_type_t, gs_notification_type)     \
    X(ha_gs_delayed_error_notification_t, ha_gs_token_t, gs_request_token)                     \
    X(ha_gs_delayed_error_notification_t, ha_gs_request_t, gs_protocol_type)                    \
    X(ha_gs_delayed_error_notification_t, ha_gs_rc_t, gs_delayed_return_code)                   \
    X(ha_gs_delayed_error_notification_t, ha_gs_proposal_info_t *, gs_failing_request)
#define RESPONSIVENESS_NOTIFICATION_FIELDS(X)                                                   \
    X(ha_gs_responsiveness_notification_t, ha_gs_notification_type_t, gs_notification_type)    \
    X(ha_gs_responsiveness_notification_t, ha_gs_responsiveness_t, gs_responsiveness_information)

#define ALL_STRUCTS(Y)                                                          \
    Y(PROVIDER_FIELDS) Y(MEMBERSHIP_FIELDS) Y(STATE_VALUE_FIELDS)              \
    Y(PROVIDER_MESSAGE_FIELDS) Y(GROUP_ATTRIBUTES_FIELDS) Y(LEAVE_INFO_FIELDS) \
    Y(EXPEL_INFO_FIELDS) Y(PROPOSAL_FIELDS) Y(RESPONSIVENESS_FIELDS)           \
    Y(SPECIAL_BLOCK_FIELDS) Y(SPECIAL_DATA_FIELDS) Y(ADAPTER_INFO_FIELDS)      \
    Y(JOIN_REQUEST_FIELDS) Y(LEAVE_REQUEST_FIELDS) Y(EXPEL_REQUEST_FIELDS)     \
    Y(STATE_CHANGE_REQUEST_FIELDS) Y(MESSAGE_REQUEST_FIELDS)                   \
    Y(CHANGE_ATTRIBUTES_FIELDS) Y(SUBSCRIBE_REQUEST_FIELDS) Y(N_PHASE_FIELDS)  \
    Y(APPROVED_FIELDS) Y(REJECTED_FIELDS) Y(ANNOUNCEMENT_FIELDS)               \
    Y(MERGE_FIELDS) Y(QUERY_FIELDS) Y(SUBSCRIPTION_FIELDS)                     \
    Y(DELAYED_ERROR_FIELDS) Y(RESPONSIVENESS_NOTIFICATION_FIELDS)

#define MIRROR_MEMBER(T, FT, m) FT m;
#define SAME_OFFSET(T, FT, m) \
    STATIC_CHECK(offsetof(T, m) == offsetof(mirror_##T, m), T##_##m##_offset);

/* The mirrors. */
typedef struct { PROVIDER_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_provider_t;
typedef struct { MEMBERSHIP_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_membership_t;
typedef struct { STATE_VALUE_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_state_value_t;
typedef struct { PROVIDER_MESSAGE_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_provider_message_t;
typedef struct { GROUP_ATTRIBUTES_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_group_attributes_t;
typedef struct { LEAVE_INFO_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_leave_info_t;
typedef struct { EXPEL_INFO_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_expel_info_t;
typedef struct { PROPOSAL_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_proposal_t;
typedef struct { RESPONSIVENESS_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_responsiveness_t;
typedef struct { SPECIAL_BLOCK_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_special_block_t;
typedef struct { SPECIAL_DATA_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_special_data_t;
typedef struct { ADAPTER_INFO_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_adapter_info;
typedef struct { JOIN_REQUEST_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_join_request_t;
typedef struct { LEAVE_REQUEST_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_leave_request_t;
typedef struct { EXPEL_REQUEST_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_expel_request_t;
typedef struct { STATE_CHANGE_REQUEST_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_state_change_request_t;
typedef struct { MESSAGE_REQUEST_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_message_request_t;
typedef struct { CHANGE_ATTRIBUTES_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_change_attributes_t;
typedef struct { SUBSCRIBE_REQUEST_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_subscribe_request_t;
typedef struct { N_PHASE_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_n_phase_notification_t;
typedef struct { APPROVED_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_approved_notification_t;
typedef struct { REJECTED_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_rejected_notification_t;
typedef struct { ANNOUNCEMENT_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_announcement_notification_t;
typedef struct { MERGE_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_merge_notification_t;
typedef struct { QUERY_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_query_notification_t;
typedef struct { SUBSCRIPTION_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_subscription_notification_t;
typedef struct { DELAYED_ERROR_FIELDS(MIRROR_MEMBER) } mirror_ha_gs_delayed_error_notification_t;
typedef struct {
    RESPONSIVENESS_NOTIFICATION_FIELDS(MIRROR_MEMBER)
} mirror_ha_gs_responsiveness_notification_t;

#define SAME_OFFSETS(LIST) LIST(SAME_OFFSET)
ALL_STRUCTS(SAME_OFFSETS)

#define SAME_SIZE(T) STATIC_CHECK(sizeof(T) == sizeof(mirror_##T), T##_size);
SAME_SIZE(ha_gs_provider_t)
SAME_SIZE(ha_gs_membership_t)
SAME_SIZE(ha_gs_state_value_t)
SAME_SIZE(ha_gs_provider_message_t)
SAME_SIZE(ha_gs_group_attributes_t)
SAME_SIZE(ha_gs_leave_info_t)
SAME_SIZE(ha_gs_expel_info_t)
SAME_SIZE(ha_gs_proposal_t)
SAME_SIZE(ha_gs_responsiveness_t)
SAME_SIZE(ha_gs_special_block_t)
SAME_SIZE(ha_gs_special_data_t)
SAME_SIZE(ha_gs_adapter_info)
SAME_SIZE(ha_gs_join_request_t)
SAME_SIZE(ha_gs_leave_request_t)
SAME_SIZE(ha_gs_expel_request_t)
SAME_SIZE(ha_gs_state_change_request_t)
SAME_SIZE(ha_gs_message_request_t)
SAME_SIZE(ha_gs_change_attributes_t)
SAME_SIZE(ha_gs_subscribe_request_t)
SAME_SIZE(ha_gs_n_phase_notification_t)
SAME_SIZE(ha_gs_approved_notification_t)
SAME_SIZE(ha_gs_rejected_notification_t)
SAME_SIZE(ha_gs_announcement_notification_t)
SAME_SIZE(ha_gs_merge_notification_t)
SAME_SIZE(ha_gs_query_notification_t)
SAME_SIZE(ha_gs_subscription_notification_t)
SAME_SIZE(ha_gs_delayed_error_notification_t)
SAME_SIZE(ha_gs_responsiveness_notification_t)

/* The special block is declared with a struct tag. */
STATIC_CHECK(sizeof(struct ha_gs_special_block) == sizeof(ha_gs_special_block_t), special_tag);

/* The alias names the same type. */
STATIC_CHECK(sizeof(ha_gs_protocol_approved_notification_t) ==
                 sizeof(ha_gs_approved_notification_t), approved_alias);

/* The union of request blocks: every member at offset 0. */
#define UNION_MEMBERS(X)                                                        \
    X(ha_gs_proposal_info_t, ha_gs_join_request_t, gs_join_request)             \
    X(ha_gs_proposal_info_t, ha_gs_leave_request_t, gs_leave_request)           \
    X(ha_gs_proposal_info_t, ha_gs_expel_request_t, gs_expel_request)           \
    X(ha_gs_proposal_info_t, ha_gs_state_change_request_t, gs_state_change_request) \
    X(ha_gs_proposal_info_t, ha_gs_message_request_t, gs_message_request)       \
    X(ha_gs_proposal_info_t, ha_gs_change_attributes_t, gs_change_attributes_request) \
    X(ha_gs_proposal_info_t, ha_gs_subscribe_request_t, gs_subscribe_request)
typedef union { UNION_MEMBERS(MIRROR_MEMBER) } mirror_ha_gs_proposal_info_t;
UNION_MEMBERS(SAME_OFFSET)
SAME_SIZE(ha_gs_proposal_info_t)

#define IP_MEMBERS(X)                                \
    X(ha_gs_ip_addr, struct in_addr, ip4)            \
    X(ha_gs_ip_addr, struct in6_addr, ip6)
typedef union { IP_MEMBERS(MIRROR_MEMBER) } mirror_ha_gs_ip_addr;
IP_MEMBERS(SAME_OFFSET)
STATIC_CHECK(sizeof(ha_gs_ip_addr) == sizeof(mirror_ha_gs_ip_addr), ip_addr_size);

/* In C++ a field of another type fails to convert; in C the size and offset
 * checks above already catch most differences. */
#define FIELD_TYPE(T, FT, m) { FT *p_ = 0; (void)sizeof(p_ = &((T *)0)->m); (void)p_; }
#define FIELD_TYPES(LIST) LIST(FIELD_TYPE)

static void check_field_types(void)
{
    ALL_STRUCTS(FIELD_TYPES)
    UNION_MEMBERS(FIELD_TYPE)
    IP_MEMBERS(FIELD_TYPE)
}

/* In C++ the scalar typedefs must be exactly the documented types. */
#define SAME_TYPE(T, U) { U *p_ = (T *)0; (void)p_; }
typedef char eid_mirror_t[64];

static void check_scalar_types(void)
{
    SAME_TYPE(ha_gs_descriptor_t, int)
    SAME_TYPE(ha_gs_token_t, int)
    SAME_TYPE(ha_gs_time_limit_t, unsigned int)
    SAME_TYPE(ha_gs_group_name_t, char *)
    SAME_TYPE(fc_eid_t, eid_mirror_t)
    SAME_TYPE(ha_gs_socket_ctrl_t, unsigned int)
    SAME_TYPE(ha_gs_summary_code_t, unsigned int)
    SAME_TYPE(ha_gs_whats_changed_t, unsigned int)
    SAME_TYPE(ha_gs_subscription_ctrl_t, unsigned int)
    SAME_TYPE(ha_gs_subscription_type_t, unsigned int)
    SAME_TYPE(ha_gs_protocol_approved_notification_t, ha_gs_approved_notification_t)
}

/* ---- callbacks: functions of the documented shape --------------------- */

static void on_n_phase(const ha_gs_n_phase_notification_t *n) { (void)n; }
static void on_approved(const ha_gs_protocol_approved_notification_t *n) { (void)n; }
static void on_rejected(const ha_gs_rejected_notification_t *n) { (void)n; }
static void on_announcement(const ha_gs_announcement_notification_t *n) { (void)n; }
static void on_merge(const ha_gs_merge_notification_t *n) { (void)n; }
static void on_subscription(const ha_gs_subscription_notification_t *n) { (void)n; }
static void on_delayed_error(const ha_gs_delayed_error_notification_t *n) { (void)n; }
static void on_query(const ha_gs_query_notification_t *n) { (void)n; }
static ha_gs_callback_rc_t on_responsiveness(const ha_gs_responsiveness_notification_t *n)
{
    (void)n;
    return HA_GS_CALLBACK_OK;
}

/* ---- functions: each with its documented signature -------------------- */

static int check_functions(void)
{
    ha_gs_rc_t (*p_init)(ha_gs_descriptor_t *, const ha_gs_socket_ctrl_t,
                         const ha_gs_responsiveness_t *, const char *,
                         ha_gs_responsiveness_cb_t *, ha_gs_delayed_error_cb_t *,
                         ha_gs_query_cb_t *) = ha_gs_init;
    ha_gs_rc_t (*p_join)(ha_gs_token_t *, const ha_gs_proposal_info_t *) = ha_gs_join;
    ha_gs_rc_t (*p_leave)(ha_gs_token_t, const ha_gs_proposal_info_t *) = ha_gs_leave;
    ha_gs_rc_t (*p_goodbye)(ha_gs_token_t) = ha_gs_goodbye;
    ha_gs_rc_t (*p_expel)(ha_gs_token_t, const ha_gs_proposal_info_t *) = ha_gs_expel;
    ha_gs_rc_t (*p_change_state)(ha_gs_token_t, const ha_gs_proposal_info_t *) =
        ha_gs_change_state_value;
    ha_gs_rc_t (*p_change_attributes)(ha_gs_token_t, const ha_gs_proposal_info_t *) =
        ha_gs_change_attributes;
    ha_gs_rc_t (*p_send)(ha_gs_token_t, const ha_gs_proposal_info_t *) = ha_gs_send_message;
    ha_gs_rc_t (*p_vote)(ha_gs_token_t, ha_gs_vote_value_t, const ha_gs_state_value_t *,
                         const ha_gs_provider_message_t *, ha_gs_vote_value_t) = ha_gs_vote;
    ha_gs_rc_t (*p_subscribe)(ha_gs_token_t *, const ha_gs_proposal_info_t *) = ha_gs_subscribe;
    ha_gs_rc_t (*p_unsubscribe)(ha_gs_token_t) = ha_gs_unsubscribe;
    ha_gs_rc_t (*p_dispatch)(const ha_gs_dispatch_flag_t) = ha_gs_dispatch;
    void (*p_quit)(void) = ha_gs_quit;
    ha_gs_rc_t (*p_node)(int *) = ha_gs_get_node_number;
    ha_gs_rc_t (*p_adapter)(ha_gs_adapter_info *) = ha_gs_get_adapter_info;
    ha_gs_rc_t (*p_ffdc)(fc_eid_t) = ha_gs_get_ffdc_id;
    ha_gs_rc_t (*p_ffdc_ptr)(char *) = ha_gs_get_ffdc_id;

    return (p_init != 0) + (p_join != 0) + (p_leave != 0) + (p_goodbye != 0) +
           (p_expel != 0) + (p_change_state != 0) + (p_change_attributes != 0) +
           (p_send != 0) + (p_vote != 0) + (p_subscribe != 0) + (p_unsubscribe != 0) +
           (p_dispatch != 0) + (p_quit != 0) + (p_node != 0) + (p_adapter != 0) +
           (p_ffdc != 0) + (p_ffdc_ptr != 0);
}

/* ---- a request filled in as a GSAPI program would ----------------------- */

static int fill_requests(void)
{
    static char name[] = "example";
    ha_gs_group_attributes_t attrs;
    ha_gs_proposal_info_t info;
    ha_gs_provider_t targets[1];
    ha_gs_n_phase_cb_t *n_phase = on_n_phase;
    ha_gs_approved_cb_t *approved = on_approved;
    ha_gs_rejected_cb_t *rejected = on_rejected;
    ha_gs_announcement_cb_t *announcement = on_announcement;
    ha_gs_merge_cb_t *merge = on_merge;
    ha_gs_subscriber_cb_t *subscriber = on_subscription;
    ha_gs_delayed_error_cb_t *delayed = on_delayed_error;
    ha_gs_query_cb_t *query = on_query;
    ha_gs_responsiveness_cb_t *responsiveness = on_responsiveness;
    ha_gs_socket_ctrl_t options = HA_GS_SOCKET_NO_SIGNAL | HA_GS_ENABLE_ADAPTER_INFO;
    ha_gs_subscription_ctrl_t control = HA_GS_SUBSCRIBE_STATE_VALUE | HA_GS_SUBSCRIBE_ALL_MEMBERSHIP;
    ha_gs_summary_code_t summary = HA_GS_DEFAULT_REJECT | HA_GS_TIME_LIMIT_EXCEEDED;
    ha_gs_whats_changed_t changed = HA_GS_CHANGE_MEMBERSHIP | HA_GS_CHANGE_STATE_VALUE;
    ha_gs_subscription_type_t type = HA_GS_SUBSCRIPTION_DELTA_JOIN | HA_GS_SUBSCRIPTION_SPECIAL_DATA;
    ha_gs_adapter_death_t death = HA_GS_ADAPTER_FAILED | HA_GS_ADAPTER_DECONFIGURED;
#if defined(__cplusplus)
    ha_gs_adapter_info adapter = {};
#else
    ha_gs_adapter_info adapter = {{{0}}, 0, 0, {0, 0}, 0};
#endif
    fc_eid_t fid;

    attrs.gs_version = HA_GS_GROUP_ATTRIBUTES_VERSION;
    attrs.gs_sizeof_group_attributes = (short)sizeof(attrs);
    attrs.gs_batch_control = HA_GS_BATCH_BOTH;
    attrs.gs_num_phases = HA_GS_N_PHASE;
    attrs.gs_source_reflection_num_phases = HA_GS_1_PHASE;
    attrs.gs_group_default_vote = HA_GS_VOTE_REJECT;
    attrs.gs_merge_control = HA_GS_DONT_MERGE;
    attrs.gs_time_limit = 10;
    attrs.gs_source_reflection_time_limit = 0;
    attrs.gs_group_name = name;
    attrs.gs_source_group_name = 0;

    info.gs_join_request.gs_group_attributes = &attrs;
    info.gs_join_request.gs_provider_instance = 1;
    info.gs_join_request.gs_provider_local_name = name;
    info.gs_join_request.gs_n_phase_protocol_callback = n_phase;
    info.gs_join_request.gs_protocol_approved_callback = approved;
    info.gs_join_request.gs_protocol_rejected_callback = rejected;
    info.gs_join_request.gs_announcement_callback = announcement;
    info.gs_join_request.gs_merge_callback = merge;

    targets[0].gs_instance_number = 1;
    targets[0].gs_node_number = 1;
    info.gs_expel_request.gs_num_phases = HA_GS_1_PHASE;
    info.gs_expel_request.gs_time_limit = 5;
    info.gs_expel_request.gs_expel_list.gs_count = 1;
    info.gs_expel_request.gs_expel_list.gs_providers = targets;
    info.gs_expel_request.gs_deactivate_phase = 1;
    info.gs_expel_request.gs_deactivate_flag = name;

    info.gs_subscribe_request.gs_subscription_control = control;
    info.gs_subscribe_request.gs_subscription_group = name;
    info.gs_subscribe_request.gs_subscription_callback = subscriber;

    fid[0] = '\0';
    return (int)options + (int)summary + (int)changed + (int)type + (int)death +
           (delayed != 0) + (query != 0) + (responsiveness != 0) + adapter.node_number +
           fid[0] + info.gs_subscribe_request.gs_subscription_group[0];
}

int main(void)
{
    int n = 0;

    check_field_types();
    check_scalar_types();
    n += check_rc(HA_GS_OK) + check_num_phases(HA_GS_1_PHASE) + check_vote(HA_GS_NULL_VOTE) +
         check_dispatch(HA_GS_BLOCKING) + check_notification(HA_GS_MERGE_NOTIFICATION) +
         check_request(HA_GS_JOIN) + check_leave_reason(HA_GS_PROVIDER_LEFT) +
         check_deactivate(HA_GS_DEACTIVATE_OK) + check_batch(HA_GS_NO_BATCHING) +
         check_merge(HA_GS_DONT_MERGE) + check_responsiveness(HA_GS_NO_RESPONSIVENESS) +
         check_callback_rc(HA_GS_CALLBACK_NOT_OK) + check_socket_ctrl(HA_GS_SOCKET_NO_SIGNAL) +
         check_summary(HA_GS_GROUP_DISSOLVED) + check_whats_changed(HA_GS_CHANGE_ATTRIBUTES) +
         check_subscribe(HA_GS_SUBSCRIBE_DELTAS_ONLY) +
         check_subscription_type(HA_GS_SUBSCRIPTION_DISSOLVED) +
         check_special(HA_GS_ADAPTER_DEATH_ARRAY) + check_adapter_death(HA_GS_ADAPTER_FAILED);
    n += check_functions();
    n += fill_requests();
    return n == 0;
}
