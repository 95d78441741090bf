// Package history checks what the providers of a test saw against what
// Group Services promises them (docs/protocol.md, docs/reliability.md): one
// order of approved changes per group, none lost, none duplicated, a leave
// for every death with the right reason, and each deactivate script run
// exactly once.
//
// A test records, for every provider of every group it drives, the approved
// notifications that provider received (History, built with
// FromNotification or by parsing a client's output), how the provider's
// process ended as the test caused it (Fate), and the deactivate scripts the
// daemons ran (Script). Check then judges the whole run and returns every
// violation it finds.
//
// # What "consistent" means
//
// An approved change is identified by its content (Record.Key): protocol
// kind, summary code, phase count, the membership and state value after the
// change, the changing providers, the provider message, the leave reasons
// and the expel information. Every provider that receives an approval
// receives the same content (only the token differs), so equal keys seen by
// two providers are the same change. The checker therefore needs scenarios
// in which no two approved changes of a group have equal content: instance
// numbers are never reused and every state value and message is unique.
// A history that holds one key twice is reported as a duplicate delivery.
//
// For each group, the run is consistent when all of the following hold.
//
//  1. One order. Whenever two histories both hold approval x followed
//     directly by y, no history holds x followed directly by anything else,
//     nor anything else followed directly by y. The approvals of a group thus
//     form disjoint chains, and every history is one contiguous segment of
//     one chain: it misses nothing between its first and last record.
//     Chains exist because a group may dissolve and be created again, and
//     because a stretch of changes that no recorded provider survived
//     cannot be linked to what came after it.
//  2. Membership follows. Along a chain, each approval's membership is the
//     previous one plus its joiners (join) or minus its changing providers
//     (leave, failure leave, expel, cast out), and unchanged otherwise. A
//     chain that starts with a join whose members are all joiners starts
//     with the group's creation.
//  3. Joins first. A provider's history starts with the approval of its own
//     join, and the provider is a member in every record it saw except one
//     that removes it, which must then be its last.
//  4. Nothing lost. When the run ends quiesced (Input.Quiesced: faults
//     over and every survivor has seen every survivor's last change), every
//     provider whose process still runs (Fate Running) and is still a member
//     is in the same chain as every other such provider of its group, and
//     has seen that chain up to its last approval. A running provider whose
//     join anybody saw approved must have seen it too.
//  5. Leaves match deaths. A provider removed by a failure leave left for
//     the reason its fate implies: Killed → PROVIDER_PROCESS_DIED,
//     SaidGoodbye → PROVIDER_SAID_GOODBYE, NodeLost → PROVIDER_NODE_DIED (a
//     Lost provider may have any failure reason; a Running provider none).
//     A leave protocol removes with PROVIDER_LEFT and an expel with
//     PROVIDER_EXPELLED, whatever the fate. When the run is quiesced and
//     complete (Input.Complete: every provider that ever asked to join has a
//     History), the last membership of the survivors' chain is exactly the
//     running (or stalled) providers that are still members: every death
//     became a leave. A Stalled provider (alive, but no longer dispatching)
//     must stay a member without having seen the end.
//  6. Scripts once (Input.Scripts is the complete list of the scripts that
//     ran). No script id ran twice and no provider's script ran twice for
//     the same reason in the same group. Every provider shown expelled with
//     a deactivate result other than DEACTIVATE_NOT_RUN had its expel
//     script run, on its own node. Every provider removed with
//     PROVIDER_PROCESS_DIED whose client registered a script (Input.HasScript)
//     had its failure script run once. A provider that is a running member
//     at the end of a quiesced run had no expel script run, and only a
//     provider whose process died had a failure script run.
//
// Expel protocols rejected after their scripts ran, reused provider
// identities and repeated state values are outside what the checker can
// judge; scenarios avoid them.
package history
