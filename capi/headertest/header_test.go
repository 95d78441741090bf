package headertest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/wire"
)

// TestHeaderCompilesAlone compiles ha_gs.h on its own, and included twice,
// in every language mode with warnings as errors: it must include what it
// needs, guard against double inclusion, and be warning-free C and C++.
func TestHeaderCompilesAlone(t *testing.T) {
	inc := includeDir(t)
	twice := filepath.Join(t.TempDir(), "twice.c")
	require.NoError(t, os.WriteFile(twice, []byte("#include <ha_gs.h>\n#include <ha_gs.h>\n"), 0o644))
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			flags := append(slices.Clone(m.flags), strictFlags[m.driver]...)
			args := append(slices.Clone(flags), "-fsyntax-only", filepath.Join(inc, "ha_gs.h"))
			out, err := compile(t, m.driver, args...)
			require.NoError(t, err, "ha_gs.h must compile alone as %s without warnings:\n%s", m.name, out)

			args = append(slices.Clone(flags), "-fsyntax-only", "-I", inc, twice)
			out, err = compile(t, m.driver, args...)
			require.NoError(t, err, "ha_gs.h included twice must compile as %s (include guard):\n%s", m.name, out)
		})
	}
}

// TestConformanceProgram compiles testdata/conformance.c, which uses every
// function, type, constant and field of the contract, in every mode.
func TestConformanceProgram(t *testing.T) {
	inc := includeDir(t)
	src, err := filepath.Abs(filepath.Join("testdata", "conformance.c"))
	require.NoError(t, err)
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			obj := filepath.Join(t.TempDir(), "conformance.o")
			args := append(slices.Clone(m.flags), "-I", inc, "-c", "-o", obj, src)
			out, err := compile(t, m.driver, args...)
			require.NoError(t, err, "testdata/conformance.c must compile as %s against ha_gs.h:\n%s", m.name, out)
		})
	}
}

// TestConformanceCatchesMutations proves that the conformance program is
// not vacuous: each deliberate breach of the contract, applied to a copy of
// the header, must make it fail to compile.
func TestConformanceCatchesMutations(t *testing.T) {
	header := readHeader(t)
	src, err := filepath.Abs(filepath.Join("testdata", "conformance.c"))
	require.NoError(t, err)
	mutations := []struct {
		name     string
		old, new string
	}{
		{"fields swapped",
			"    short                      gs_provider_instance;   /* 0..32767, unique per node per group */\n" +
				"    char                      *gs_provider_local_name; /* NULL or a label for local logs */\n",
			"    char                      *gs_provider_local_name;\n" +
				"    short                      gs_provider_instance;\n"},
		{"field missing", "    ha_gs_expel_info_t        *gs_expel_info;           /* expel */\n", ""},
		{"field of another type",
			"    unsigned int          gs_leave_code;      /* from ha_gs_leave_request_t, else 0 */",
			"    int                   gs_leave_code;"},
		{"extra enumerator", "    HA_GS_FORKED_CHILD              = 31", "    HA_GS_FORKED_CHILD = 31, HA_GS_EXTRA_CODE = 32"},
		{"duplicate value", "    HA_GS_BLOCKING     = 2", "    HA_GS_BLOCKING     = 1"},
		{"duplicate flag", "    HA_GS_DEACTIVATE_SUCCESSFUL            = 0x0100", "    HA_GS_DEACTIVATE_SUCCESSFUL            = 0x0200"},
		{"callback without const",
			"typedef void ha_gs_n_phase_cb_t(const ha_gs_n_phase_notification_t *notification);",
			"typedef void ha_gs_n_phase_cb_t(ha_gs_n_phase_notification_t *notification);"},
		{"signature changed", "ha_gs_rc_t ha_gs_get_node_number(int *node_number);", "ha_gs_rc_t ha_gs_get_node_number(short *node_number);"},
		{"token type changed", "typedef int ha_gs_token_t; ", "typedef long ha_gs_token_t; "},
		{"flag type made an enumeration",
			"typedef unsigned int ha_gs_subscription_ctrl_t; /* project-defined layout */\nenum {",
			"typedef enum {"},
	}
	// The same compilation of the unchanged header succeeds, so a failure
	// below is the mutation's doing.
	control := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(control, "ha_gs.h"), []byte(header), 0o644))
	for _, m := range []mode{modes[0], modes[3]} {
		args := append(slices.Clone(m.flags), "-I", control, "-fsyntax-only", src)
		out, err := compile(t, m.driver, args...)
		require.NoError(t, err, "conformance.c must accept a copy of the unchanged header (%s):\n%s", m.name, out)
	}
	for _, mu := range mutations {
		t.Run(mu.name, func(t *testing.T) {
			t.Parallel()
			require.Contains(t, header, mu.old, "the mutation's original text must still be in ha_gs.h; update the mutation")
			mutated := strings.Replace(header, mu.old, mu.new, 1)
			if mu.name == "flag type made an enumeration" {
				mutated = strings.Replace(mutated,
					"    HA_GS_SUBSCRIBE_DELTAS_ONLY    = 0x8    /* project-defined: leave the full list out */\n};",
					"    HA_GS_SUBSCRIBE_DELTAS_ONLY    = 0x8\n} ha_gs_subscription_ctrl_t;", 1)
			}
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "ha_gs.h"), []byte(mutated), 0o644))
			failed := false
			for _, m := range []mode{modes[0], modes[3]} { // c99 and c++17
				args := append(slices.Clone(m.flags), "-I", dir, "-fsyntax-only", src)
				if _, err := compile(t, m.driver, args...); err != nil {
					failed = true
				}
			}
			assert.True(t, failed, "conformance.c must reject a header with %q", mu.name)
		})
	}
}

// expectedValues maps every numeric constant of ha_gs.h to its value: the
// internal/wire constant for everything the wire carries, and the
// project's choice (docs/c-api.md) for the rest.
func expectedValues() map[string]int64 {
	m := map[string]int64{}
	for _, c := range wire.AllCodes() {
		m[c.String()] = int64(c)
	}
	add := func(v int64, names ...string) {
		for _, n := range names {
			m[n] = v
		}
	}
	add(int64(wire.OnePhase), "HA_GS_1_PHASE")
	add(int64(wire.NPhase), "HA_GS_N_PHASE")
	add(int64(wire.NullVote), "HA_GS_NULL_VOTE")
	add(int64(wire.VoteApprove), "HA_GS_VOTE_APPROVE")
	add(int64(wire.VoteContinue), "HA_GS_VOTE_CONTINUE")
	add(int64(wire.VoteReject), "HA_GS_VOTE_REJECT")
	for n, v := range map[string]wire.NotificationType{
		"HA_GS_N_PHASE_NOTIFICATION": wire.NPhaseNotification, "HA_GS_APPROVED_NOTIFICATION": wire.ApprovedNotification,
		"HA_GS_REJECTED_NOTIFICATION": wire.RejectedNotification, "HA_GS_ANNOUNCEMENT_NOTIFICATION": wire.AnnouncementNotification,
		"HA_GS_SUBSCRIPTION_NOTIFICATION": wire.SubscriptionNotification, "HA_GS_DELAYED_ERROR_NOTIFICATION": wire.DelayedErrorNotification,
		"HA_GS_RESPONSIVENESS_NOTIFICATION": wire.ResponsivenessNotification, "HA_GS_QUERY_NOTIFICATION": wire.QueryNotification,
		"HA_GS_MERGE_NOTIFICATION": wire.MergeNotification,
	} {
		add(int64(v), n)
	}
	for n, v := range map[string]wire.RequestType{
		"HA_GS_JOIN": wire.JoinProtocol, "HA_GS_FAILURE_LEAVE": wire.FailureLeaveProtocol, "HA_GS_LEAVE": wire.LeaveProtocol,
		"HA_GS_EXPEL": wire.ExpelProtocol, "HA_GS_STATE_VALUE_CHANGE": wire.StateValueChangeProtocol,
		"HA_GS_PROVIDER_MESSAGE": wire.ProviderMessageProtocol, "HA_GS_CAST_OUT": wire.CastOutProtocol,
		"HA_GS_SOURCE_STATE_REFLECTION": wire.SourceStateReflectionProtocol, "HA_GS_MERGE": wire.MergeProtocol,
		"HA_GS_SUBSCRIPTION": wire.SubscriptionRequest, "HA_GS_GROUP_ATTRIBUTE_CHANGE": wire.GroupAttributeChangeProtocol,
	} {
		add(int64(v), n)
	}
	for n, v := range map[string]wire.SummaryCode{
		"HA_GS_EXPLICIT_APPROVE": wire.ExplicitApprove, "HA_GS_EXPLICIT_REJECT": wire.ExplicitReject,
		"HA_GS_DEFAULT_APPROVE": wire.DefaultApprove, "HA_GS_DEFAULT_REJECT": wire.DefaultReject,
		"HA_GS_TIME_LIMIT_EXCEEDED": wire.TimeLimitExceeded, "HA_GS_PROVIDER_FAILURE": wire.ProviderFailure,
		"HA_GS_RESPONSIVENESS_NO_RESPONSE": wire.ResponsivenessNoResponse, "HA_GS_RESPONSIVENESS_RESPONSE": wire.ResponsivenessResponse,
		"HA_GS_DEACTIVATE_SUCCESSFUL": wire.DeactivateSuccessful, "HA_GS_DEACTIVATE_UNSUCCESSFUL": wire.DeactivateUnsuccessful,
		"HA_GS_DEACTIVATE_TIME_LIMIT_EXCEEDED": wire.DeactivateTimeLimitExceeded, "HA_GS_GROUP_DISSOLVED": wire.GroupDissolved,
		"HA_GS_GROUP_SERVICES_HAS_DIED_HORRIBLY": wire.GroupServicesHasDiedHorribly,
	} {
		add(int64(v), n)
	}
	for n, v := range map[string]wire.WhatsChanged{
		"HA_GS_CHANGE_MEMBERSHIP": wire.ChangeMembership, "HA_GS_CHANGE_STATE_VALUE": wire.ChangeStateValue,
		"HA_GS_CHANGE_PROVIDER_MESSAGE": wire.ChangeProviderMessage, "HA_GS_CHANGE_ATTRIBUTES": wire.ChangeAttributes,
	} {
		add(int64(v), n)
	}
	for n, v := range map[string]wire.LeaveReason{
		"HA_GS_PROVIDER_LEFT": wire.ProviderLeft, "HA_GS_PROVIDER_PROCESS_DIED": wire.ProviderProcessDied,
		"HA_GS_PROVIDER_NODE_DIED": wire.ProviderNodeDied, "HA_GS_PROVIDER_SAID_GOODBYE": wire.ProviderSaidGoodbye,
		"HA_GS_PROVIDER_EXPELLED": wire.ProviderExpelled, "HA_GS_PROVIDER_CAST_OUT": wire.ProviderCastOut,
	} {
		add(int64(v), n)
	}
	for n, v := range map[string]wire.DeactivateResult{
		"HA_GS_DEACTIVATE_NOT_RUN": wire.DeactivateNotRun, "HA_GS_DEACTIVATE_OK": wire.DeactivateOK,
		"HA_GS_DEACTIVATE_FAILED": wire.DeactivateFailed, "HA_GS_DEACTIVATE_TIMED_OUT": wire.DeactivateTimedOut,
	} {
		add(int64(v), n)
	}
	for n, v := range map[string]wire.BatchControl{
		"HA_GS_NO_BATCHING": wire.NoBatching, "HA_GS_BATCH_JOINS": wire.BatchJoins,
		"HA_GS_BATCH_FAILURE_LEAVES": wire.BatchFailureLeaves, "HA_GS_BATCH_BOTH": wire.BatchBoth,
	} {
		add(int64(v), n)
	}
	add(int64(wire.DissolveMerge), "HA_GS_DISSOLVE_MERGE")
	add(int64(wire.DontMerge), "HA_GS_DONT_MERGE")
	add(int64(wire.NoResponsiveness), "HA_GS_NO_RESPONSIVENESS")
	add(int64(wire.PingResponsiveness), "HA_GS_PING_RESPONSIVENESS")
	add(int64(wire.CounterResponsiveness), "HA_GS_COUNTER_RESPONSIVENESS")
	add(int64(wire.CallbackOK), "HA_GS_CALLBACK_OK")
	add(int64(wire.CallbackNotOK), "HA_GS_CALLBACK_NOT_OK")
	for n, v := range map[string]wire.SubscriptionControl{
		"HA_GS_SUBSCRIBE_STATE_VALUE": wire.SubscribeStateValue, "HA_GS_SUBSCRIBE_DELTA_JOINS": wire.SubscribeDeltaJoins,
		"HA_GS_SUBSCRIBE_DELTA_LEAVES": wire.SubscribeDeltaLeaves, "HA_GS_SUBSCRIBE_ALL_MEMBERSHIP": wire.SubscribeAllMembership,
		"HA_GS_SUBSCRIBE_DELTAS_ONLY": wire.SubscribeDeltasOnly,
	} {
		add(int64(v), n)
	}
	for n, v := range map[string]wire.SubscriptionType{
		"HA_GS_SUBSCRIPTION_STATE_VALUE": wire.SubscriptionStateValue, "HA_GS_SUBSCRIPTION_DELTA_JOIN": wire.SubscriptionDeltaJoin,
		"HA_GS_SUBSCRIPTION_DELTA_LEAVE": wire.SubscriptionDeltaLeave, "HA_GS_SUBSCRIPTION_DISSOLVED": wire.SubscriptionDissolved,
		"HA_GS_SUBSCRIPTION_SPECIAL_DATA": wire.SubscriptionSpecialData,
	} {
		add(int64(v), n)
	}
	// Limits.
	add(wire.MaxGroupNameLength, "HA_GS_MAX_GROUP_NAME_LENGTH")
	add(wire.MaxLocalNameLength, "HA_GS_MAX_LOCAL_NAME_LENGTH")
	add(wire.MaxStateValueLength, "HA_GS_MAX_STATE_VALUE_LENGTH")
	add(wire.MaxProviderMessageLength, "HA_GS_MAX_PROVIDER_MESSAGE_LENGTH")
	add(wire.MaxDeactivateFlagLength, "HA_GS_MAX_DEACTIVATE_FLAG_LENGTH")
	add(wire.MaxScriptPathLength, "HA_GS_MAX_SCRIPT_PATH_LENGTH")
	add(wire.MaxProvidersPerGroup, "HA_GS_MAX_PROVIDERS_PER_GROUP")
	add(wire.MaxGroupsPerDomain, "HA_GS_MAX_GROUPS_PER_DOMAIN")
	add(wire.MaxClientsPerDaemon, "HA_GS_MAX_CLIENTS_PER_DAEMON")
	add(wire.MaxTokensPerClient, "HA_GS_MAX_TOKENS_PER_CLIENT")
	// Values the wire does not carry: chosen once, listed in docs/c-api.md.
	add(1, "HA_GS_GROUP_ATTRIBUTES_VERSION")
	add(1, "HA_GS_SOCKET_NO_SIGNAL")
	add(2, "HA_GS_ENABLE_ADAPTER_INFO")
	add(1, "HA_GS_NON_BLOCKING")
	add(2, "HA_GS_BLOCKING")
	add(1, "HA_GS_CURRENT_ADAPTER_ALIAS_ARRAY")
	add(2, "HA_GS_CHANGING_ADAPTER_ALIAS_ARRAY")
	add(4, "HA_GS_ADAPTER_DEATH_ARRAY")
	add(1, "HA_GS_ADAPTER_FAILED")
	add(2, "HA_GS_ADAPTER_DECONFIGURED")
	return m
}

// expectedStrings maps the header's string macros to their values.
var expectedStrings = map[string]string{
	"HA_GS_HOST_MEMBERSHIP_GROUP": "HostMembership",
	"HA_GS_DOMAIN_ENV":            "HA_DOMAIN_NAME",
	"HA_GS_SOCKET_ENV":            "HA_GS_SOCKET",
}

// TestConstantValues builds and runs a generated C program that prints
// every constant, and compares the values with internal/wire and the
// project's documented choices.
func TestConstantValues(t *testing.T) {
	want := expectedValues()
	names := make([]string, 0, len(want))
	for n := range want {
		names = append(names, n)
	}
	sort.Strings(names)

	var src strings.Builder
	src.WriteString("#include <stdio.h>\n#include <ha_gs.h>\n\nint main(void)\n{\n")
	for _, n := range names {
		fmt.Fprintf(&src, "    printf(\"%%s %%lld\\n\", \"%s\", (long long)(%s));\n", n, n)
	}
	strs := make([]string, 0, len(expectedStrings))
	for n := range expectedStrings {
		strs = append(strs, n)
	}
	sort.Strings(strs)
	for _, n := range strs {
		fmt.Fprintf(&src, "    printf(\"%%s \\\"%%s\\\"\\n\", \"%s\", %s);\n", n, n)
	}
	src.WriteString("    return 0;\n}\n")

	dir := t.TempDir()
	cfile, exe := filepath.Join(dir, "values.c"), filepath.Join(dir, "values")
	require.NoError(t, os.WriteFile(cfile, []byte(src.String()), 0o644))
	out, err := compile(t, "cc", "-std=c99", "-Wall", "-Wextra", "-Werror", "-I", includeDir(t), "-o", exe, cfile)
	require.NoError(t, err, "the generated program must compile: every expected constant must be in ha_gs.h:\n%s", out)

	run, err := exec.Command(exe).Output()
	require.NoError(t, err, "the generated program must run")
	got := map[string]int64{}
	gotStr := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(run)))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), " ")
		require.True(t, ok, "each output line is NAME VALUE, got %q", sc.Text())
		if s, err := strconv.Unquote(val); err == nil && strings.HasPrefix(val, `"`) {
			gotStr[name] = s
			continue
		}
		v, err := strconv.ParseInt(val, 10, 64)
		require.NoError(t, err, "value of %s must be an integer", name)
		got[name] = v
	}
	assert.Equal(t, want, got, "every constant in ha_gs.h must equal its internal/wire or documented value")
	assert.Equal(t, expectedStrings, gotStr, "the string macros must hold their documented values")

	// The other direction: every constant the header declares has an expectation.
	scan, err := scanHeader(readHeader(t))
	require.NoError(t, err)
	for _, e := range scan.enumerations {
		for _, m := range e.members {
			_, ok := want[m]
			assert.True(t, ok, "enumerator %s of ha_gs.h must have an expected value in this test", m)
		}
	}
	for _, m := range headerMacros(t, modes[0]) {
		_, num := want[m]
		_, str := expectedStrings[m]
		assert.True(t, num || str || m == "HA_GS_H", "macro %s of ha_gs.h must have an expected value in this test", m)
	}
}

// TestReturnCodesMatchWire checks that ha_gs_rc_t lists exactly the
// wire.Code names, in the same order.
func TestReturnCodesMatchWire(t *testing.T) {
	scan, err := scanHeader(readHeader(t))
	require.NoError(t, err)
	var rc *enumeration
	for i := range scan.enumerations {
		if scan.enumerations[i].typedefName == "ha_gs_rc_t" {
			rc = &scan.enumerations[i]
		}
	}
	require.NotNil(t, rc, "ha_gs.h must declare ha_gs_rc_t as an enumeration")
	var want []string
	for _, c := range wire.AllCodes() {
		want = append(want, c.String())
	}
	assert.Equal(t, want, rc.members, "ha_gs_rc_t must list every wire.Code by its HA_GS_* name, in value order, and nothing else")
}

// TestEnumerationsMatchContract checks the member lists of every named
// enumeration against docs/c-contract.md.
func TestEnumerationsMatchContract(t *testing.T) {
	scan, err := scanHeader(readHeader(t))
	require.NoError(t, err)
	got := map[string][]string{}
	for _, e := range scan.enumerations {
		if e.typedefName != "" {
			got[e.typedefName] = e.members
		}
	}
	want := map[string][]string{
		"ha_gs_num_phases_t":    {"HA_GS_1_PHASE", "HA_GS_N_PHASE"},
		"ha_gs_vote_value_t":    {"HA_GS_NULL_VOTE", "HA_GS_VOTE_APPROVE", "HA_GS_VOTE_CONTINUE", "HA_GS_VOTE_REJECT"},
		"ha_gs_dispatch_flag_t": {"HA_GS_NON_BLOCKING", "HA_GS_BLOCKING"},
		"ha_gs_notification_type_t": {"HA_GS_N_PHASE_NOTIFICATION", "HA_GS_APPROVED_NOTIFICATION",
			"HA_GS_REJECTED_NOTIFICATION", "HA_GS_ANNOUNCEMENT_NOTIFICATION", "HA_GS_SUBSCRIPTION_NOTIFICATION",
			"HA_GS_DELAYED_ERROR_NOTIFICATION", "HA_GS_RESPONSIVENESS_NOTIFICATION", "HA_GS_QUERY_NOTIFICATION",
			"HA_GS_MERGE_NOTIFICATION"},
		"ha_gs_request_t": {"HA_GS_JOIN", "HA_GS_FAILURE_LEAVE", "HA_GS_LEAVE", "HA_GS_EXPEL",
			"HA_GS_STATE_VALUE_CHANGE", "HA_GS_PROVIDER_MESSAGE", "HA_GS_CAST_OUT", "HA_GS_SOURCE_STATE_REFLECTION",
			"HA_GS_MERGE", "HA_GS_SUBSCRIPTION", "HA_GS_GROUP_ATTRIBUTE_CHANGE"},
		"ha_gs_leave_reason_t": {"HA_GS_PROVIDER_LEFT", "HA_GS_PROVIDER_PROCESS_DIED", "HA_GS_PROVIDER_NODE_DIED",
			"HA_GS_PROVIDER_SAID_GOODBYE", "HA_GS_PROVIDER_EXPELLED", "HA_GS_PROVIDER_CAST_OUT"},
		"ha_gs_deactivate_result_t": {"HA_GS_DEACTIVATE_NOT_RUN", "HA_GS_DEACTIVATE_OK", "HA_GS_DEACTIVATE_FAILED",
			"HA_GS_DEACTIVATE_TIMED_OUT"},
		"ha_gs_batch_ctrl_t": {"HA_GS_NO_BATCHING", "HA_GS_BATCH_JOINS", "HA_GS_BATCH_FAILURE_LEAVES", "HA_GS_BATCH_BOTH"},
		"ha_gs_merge_ctrl_t": {"HA_GS_DISSOLVE_MERGE", "HA_GS_DONT_MERGE"},
		"ha_gs_responsiveness_type_t": {"HA_GS_NO_RESPONSIVENESS", "HA_GS_PING_RESPONSIVENESS",
			"HA_GS_COUNTER_RESPONSIVENESS"},
		"ha_gs_callback_rc_t": {"HA_GS_CALLBACK_OK", "HA_GS_CALLBACK_NOT_OK"},
	}
	for typ, members := range want {
		assert.Equal(t, members, got[typ], "enumeration %s must have exactly the contract's members", typ)
	}
}

// TestFileScopeNamesArePrefixed checks that the header declares, at file
// scope, nothing outside ha_gs_*, HA_GS_*, fc_eid_t and the standard names
// it uses.
func TestFileScopeNamesArePrefixed(t *testing.T) {
	scan, err := scanHeader(readHeader(t))
	require.NoError(t, err, "the header must tokenize")
	require.NotEmpty(t, scan.fileScope, "the scan must find the header's declarations")
	assert.Empty(t, foreignNames(scan), "ha_gs.h must declare no file-scope name outside ha_gs_/HA_GS_/fc_eid_t")
}

// TestScannerFindsForeignNames shows that the scanner reports what the
// previous test forbids, so that test can fail.
func TestScannerFindsForeignNames(t *testing.T) {
	src := `
#define NOT_SCANNED 1
/* comment_name */
typedef int my_int_t;
typedef struct tag_name { int member_ok; my_int_t other_ok; } ha_gs_x_t;
enum { HA_GS_A = 1, STRAY = 2 };
extern "C" { int stray_function(int param_ok); }
typedef enum { HA_GS_B, HA_GS_C = HA_GS_B } ha_gs_e_t;
`
	scan, err := scanHeader(src)
	require.NoError(t, err)
	bad := foreignNames(scan)
	assert.Equal(t, []string{"my_int_t (line 4)", "tag_name (line 5)", "STRAY (line 6)", "stray_function (line 7)"}, bad,
		"the scanner must report exactly the unprefixed file-scope names")
	require.Len(t, scan.enumerations, 2, "the scanner must find both enumerations")
	assert.Equal(t, []string{"HA_GS_A", "STRAY"}, scan.enumerations[0].members, "anonymous enumeration members")
	assert.Equal(t, enumeration{typedefName: "ha_gs_e_t", members: []string{"HA_GS_B", "HA_GS_C"}, line: 8},
		scan.enumerations[1], "a typedef'd enumeration keeps its name and members, not names used in values")
}

// headerMacros lists the macros ha_gs.h defines beyond those of the system
// headers it includes, as the preprocessor sees them.
func headerMacros(t *testing.T, m mode) []string {
	t.Helper()
	dir := t.TempDir()
	base := filepath.Join(dir, "base.h")
	require.NoError(t, os.WriteFile(base, []byte("#include <stdint.h>\n#include <netinet/in.h>\n"), 0o644))
	defined := func(file string) map[string]bool {
		lang := m.flags[:3] // -x LANG -std=...
		args := append(slices.Clone(lang), "-E", "-dM", file)
		out, err := compile(t, m.driver, args...)
		require.NoError(t, err, "%s -E -dM %s must succeed:\n%s", m.driver, file, out)
		names := map[string]bool{}
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == "#define" {
				name, _, _ := strings.Cut(f[1], "(")
				names[name] = true
			}
		}
		return names
	}
	before := defined(base)
	after := defined(filepath.Join(includeDir(t), "ha_gs.h"))
	var added []string
	for n := range after {
		if !before[n] {
			added = append(added, n)
		}
	}
	sort.Strings(added)
	return added
}

// TestMacrosArePrefixed checks, with the preprocessor, that every macro the
// header defines starts with HA_GS_, in C and in C++.
func TestMacrosArePrefixed(t *testing.T) {
	for _, m := range []mode{modes[0], modes[3]} {
		added := headerMacros(t, m)
		require.Contains(t, added, "HA_GS_MAX_GROUP_NAME_LENGTH", "the macro scan must see the header's macros (%s)", m.name)
		for _, n := range added {
			assert.True(t, strings.HasPrefix(n, "HA_GS_"), "macro %s defined by ha_gs.h must start with HA_GS_ (%s)", n, m.name)
		}
	}
}

// documentedNames are the names IBM's manual publishes (docs/c-contract.md
// lists them; the ha_gs_expel page adds the expel errors). Every other name ha_gs.h declares is
// ours and must say "project-defined" on the line that declares it.
var documentedNames = []string{
	// Functions.
	"ha_gs_init", "ha_gs_join", "ha_gs_leave", "ha_gs_goodbye", "ha_gs_expel", "ha_gs_change_state_value",
	"ha_gs_change_attributes", "ha_gs_send_message", "ha_gs_vote", "ha_gs_subscribe", "ha_gs_unsubscribe",
	"ha_gs_dispatch", "ha_gs_quit", "ha_gs_get_node_number", "ha_gs_get_adapter_info", "ha_gs_get_ffdc_id",
	// Types.
	"ha_gs_rc_t", "ha_gs_descriptor_t", "ha_gs_token_t", "ha_gs_socket_ctrl_t", "ha_gs_dispatch_flag_t",
	"ha_gs_vote_value_t", "ha_gs_num_phases_t", "ha_gs_time_limit_t", "ha_gs_request_t", "ha_gs_summary_code_t",
	"ha_gs_notification_type_t", "ha_gs_subscription_ctrl_t", "ha_gs_subscription_type_t", "ha_gs_callback_rc_t",
	"ha_gs_group_name_t", "fc_eid_t", "ha_gs_provider_t", "ha_gs_adapter_death_t", "ha_gs_membership_t",
	"ha_gs_state_value_t", "ha_gs_provider_message_t", "ha_gs_group_attributes_t", "ha_gs_proposal_info_t",
	"ha_gs_proposal_t", "ha_gs_responsiveness_t", "ha_gs_join_request_t", "ha_gs_leave_request_t",
	"ha_gs_expel_request_t", "ha_gs_state_change_request_t", "ha_gs_message_request_t",
	"ha_gs_change_attributes_t", "ha_gs_subscribe_request_t", "ha_gs_n_phase_notification_t",
	"ha_gs_approved_notification_t", "ha_gs_protocol_approved_notification_t", "ha_gs_rejected_notification_t",
	"ha_gs_announcement_notification_t", "ha_gs_subscription_notification_t",
	"ha_gs_delayed_error_notification_t", "ha_gs_responsiveness_notification_t", "ha_gs_n_phase_cb_t",
	"ha_gs_approved_cb_t", "ha_gs_rejected_cb_t", "ha_gs_announcement_cb_t", "ha_gs_merge_cb_t",
	"ha_gs_subscriber_cb_t", "ha_gs_responsiveness_cb_t", "ha_gs_delayed_error_cb_t", "ha_gs_query_cb_t",
	"ha_gs_special_data_t", "ha_gs_special_block_t", "ha_gs_ip_addr", "ha_gs_adapter_info",
	// Constants.
	"HA_GS_OK", "HA_GS_NOT_OK", "HA_GS_NO_INIT", "HA_GS_NOT_A_MEMBER", "HA_GS_BAD_MEMBER_TOKEN",
	"HA_GS_BAD_PARAMETER", "HA_GS_UNKNOWN_GROUP", "HA_GS_BAD_GROUP_ATTRIBUTES", "HA_GS_DUPLICATE_INSTANCE_NUMBER",
	"HA_GS_COLLIDE", "HA_GS_NOT_SUPPORTED", "HA_GS_UNKNOWN_PROVIDER", "HA_GS_PROVIDER_APPEARS_TWICE",
	"HA_GS_INVALID_DEACTIVATE_PHASE", "HA_GS_BACKLEVEL_PROVIDERS", "HA_GS_1_PHASE", "HA_GS_N_PHASE",
	"HA_GS_NULL_VOTE", "HA_GS_VOTE_APPROVE", "HA_GS_VOTE_CONTINUE", "HA_GS_VOTE_REJECT",
	"HA_GS_SOCKET_NO_SIGNAL", "HA_GS_ENABLE_ADAPTER_INFO", "HA_GS_NON_BLOCKING", "HA_GS_BLOCKING",
	"HA_GS_APPROVED_NOTIFICATION", "HA_GS_ANNOUNCEMENT_NOTIFICATION", "HA_GS_SUBSCRIPTION_NOTIFICATION",
	"HA_GS_DELAYED_ERROR_NOTIFICATION", "HA_GS_RESPONSIVENESS_NOTIFICATION", "HA_GS_PROVIDER_SAID_GOODBYE",
	"HA_GS_SUBSCRIPTION_DISSOLVED", "HA_GS_SUBSCRIPTION_SPECIAL_DATA", "HA_GS_CURRENT_ADAPTER_ALIAS_ARRAY",
	"HA_GS_CHANGING_ADAPTER_ALIAS_ARRAY", "HA_GS_ADAPTER_DEATH_ARRAY",
	// The include guard.
	"HA_GS_H",
}

// projectLayouts are documented names whose layout IBM did not publish; the
// line that declares each must say "project-defined" too.
var projectLayouts = []string{
	"ha_gs_descriptor_t", "ha_gs_token_t", "ha_gs_time_limit_t", "ha_gs_group_name_t", "fc_eid_t",
	"ha_gs_socket_ctrl_t", "ha_gs_summary_code_t", "ha_gs_subscription_ctrl_t", "ha_gs_subscription_type_t",
	"ha_gs_provider_t", "ha_gs_state_value_t", "ha_gs_provider_message_t", "ha_gs_group_attributes_t",
	"ha_gs_proposal_t", "ha_gs_responsiveness_t", "ha_gs_rejected_notification_t",
}

// TestProjectDefinedNamesAreMarked checks that every name ha_gs.h declares
// beyond IBM's, and every documented name with a layout of ours, carries a
// "project-defined" comment on the line that declares it.
func TestProjectDefinedNamesAreMarked(t *testing.T) {
	header := readHeader(t)
	lines := strings.Split(header, "\n")
	scan, err := scanHeader(header)
	require.NoError(t, err)

	declared := map[string]int{} // name → line of its first use, its declaration
	for _, n := range scan.fileScope {
		if _, seen := declared[n.name]; !seen && !standardNames[n.name] {
			declared[n.name] = n.line
		}
	}
	for i, line := range lines {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "#define" {
			declared[f[1]] = i + 1
		}
	}
	require.Contains(t, declared, "HA_GS_MAX_GROUP_NAME_LENGTH", "the scan must see the macros")
	require.Contains(t, declared, "ha_gs_whats_changed_t", "the scan must see the typedefs")

	doc := map[string]bool{}
	for _, n := range documentedNames {
		doc[n] = true
		_, ok := declared[n]
		assert.True(t, ok, "ha_gs.h must declare the documented name %s", n)
	}
	for name, line := range declared {
		if doc[name] {
			continue
		}
		assert.Contains(t, lines[line-1], "project-defined",
			"%s (line %d) is not an IBM name, so its declaring line must say project-defined", name, line)
	}
	for _, name := range projectLayouts {
		line, ok := declared[name]
		require.True(t, ok, "ha_gs.h must declare %s", name)
		assert.Contains(t, lines[line-1], "project-defined",
			"%s (line %d) has a layout of ours, so its declaring line must say project-defined", name, line)
	}
}
