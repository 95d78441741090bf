package wire

import "fmt"

// Check validates a request as far as it can be judged without the group's
// state: the checks that the client library makes synchronously and the
// daemon makes again for every request it receives. It returns OK or the
// code the GSAPI prescribes (NotSupported for an operation this level does
// not know). Check does not modify r; callers Normalize first.
func (r *Request) Check() Code {
	switch {
	case r.Op == 0:
		return BadParameter
	case !r.Op.Valid():
		// An operation this level does not know: the request comes
		// from a library of a later level than the daemon.
		return NotSupported
	}
	if r.Token <= 0 {
		return BadMemberToken
	}
	switch r.Op {
	case OpJoin:
		if c := CheckGroupName(r.Group); c != OK {
			return c
		}
		if r.Attributes == nil {
			return BadGroupAttributes
		}
		if c := r.Attributes.Check(); c != OK {
			return c
		}
		if r.Attributes.GroupName != r.Group {
			return BadGroupAttributes
		}
		if r.Instance < 0 || r.Instance > 32767 {
			return BadParameter
		}
		if len(r.LocalName) > MaxLocalNameLength {
			return NameTooLong
		}
	case OpLeave:
		return checkPhases(r.NumPhases)
	case OpExpel:
		if c := checkPhases(r.NumPhases); c != OK {
			return c
		}
		if len(r.ExpelList) == 0 {
			return BadParameter
		}
		if r.NumPhases == OnePhase && r.DeactivatePhase > 1 {
			return InvalidDeactivatePhase
		}
		seen := make(map[Provider]struct{}, len(r.ExpelList))
		for _, p := range r.ExpelList {
			if _, dup := seen[p]; dup {
				return ProviderAppearsTwice
			}
			seen[p] = struct{}{}
		}
	case OpChangeState:
		if c := checkPhases(r.NumPhases); c != OK {
			return c
		}
		if r.State == nil {
			return BadParameter
		}
		if len(r.State) > MaxStateValueLength {
			return StateValueTooLong
		}
	case OpSendMessage:
		if c := checkPhases(r.NumPhases); c != OK {
			return c
		}
		if r.Message == nil {
			return BadParameter
		}
		if len(r.Message) > MaxProviderMessageLength {
			return MessageTooLong
		}
	case OpChangeAttributes:
		if c := checkPhases(r.NumPhases); c != OK {
			return c
		}
		if r.Attributes == nil {
			return BadGroupAttributes
		}
		return r.Attributes.Check()
	case OpVote:
		switch r.Vote {
		case VoteApprove, VoteContinue, VoteReject:
		default:
			return BadParameter
		}
		switch r.DefaultVote {
		case NullVote, VoteApprove, VoteReject:
		default:
			return BadParameter
		}
		if len(r.State) > MaxStateValueLength {
			return StateValueTooLong
		}
		if len(r.Message) > MaxProviderMessageLength {
			return MessageTooLong
		}
	case OpSubscribe:
		if c := CheckGroupName(r.Group); c != OK {
			return c
		}
		const known = SubscribeStateValue | SubscribeAllMembership | SubscribeDeltasOnly
		if r.Control == 0 || r.Control&^known != 0 {
			return BadParameter
		}
		if r.Control&(SubscribeStateValue|SubscribeAllMembership) == 0 {
			return BadParameter // DELTAS_ONLY alone asks for nothing
		}
	}
	return OK
}

// Check validates a Hello before the daemon keeps anything of it: it
// returns OK, or the code to refuse the session with and the reason to
// give. The program name is bounded (NameTooLong) because the daemon keeps
// it for the session's life and logs it; the script path likewise
// (BadParameter, as ha_gs_init returns for a path it can judge itself).
func (h *Hello) Check() (Code, string) {
	switch {
	case len(h.Program) > MaxProgramNameLength:
		return NameTooLong, fmt.Sprintf("program name is %d bytes, at most %d are allowed", len(h.Program), MaxProgramNameLength)
	case len(h.DeactivateScript) > MaxScriptPathLength:
		return BadParameter, fmt.Sprintf("deactivate script path is %d bytes, at most %d are allowed",
			len(h.DeactivateScript), MaxScriptPathLength)
	}
	return OK, ""
}

// Normalize applies the GSAPI's silent corrections: a deactivate flag longer
// than MaxDeactivateFlagLength-1 bytes is truncated.
func (r *Request) Normalize() {
	if r.DeactivateFlag != nil && len(*r.DeactivateFlag) >= MaxDeactivateFlagLength {
		f := (*r.DeactivateFlag)[:MaxDeactivateFlagLength-1]
		r.DeactivateFlag = &f
	}
}

// CheckGroupName validates a group name: non-empty (BadParameter), at most
// MaxGroupNameLength bytes (NameTooLong), and free of NUL bytes.
func CheckGroupName(name string) Code {
	switch {
	case name == "":
		return BadParameter
	case len(name) > MaxGroupNameLength:
		return NameTooLong
	}
	for i := 0; i < len(name); i++ {
		if name[i] == 0 {
			return BadParameter
		}
	}
	return OK
}

// Check validates group attributes on their own (not against an existing
// group): BadGroupAttributes for any invalid setting, NameTooLong for a long
// group name, InvalidSourceGroup for a group that names itself as its
// source.
func (a *Attributes) Check() Code {
	if c := CheckGroupName(a.GroupName); c != OK {
		if c == NameTooLong {
			return c
		}
		return BadGroupAttributes
	}
	if !a.NumPhases.Valid() {
		return BadGroupAttributes
	}
	if a.DefaultVote != VoteApprove && a.DefaultVote != VoteReject {
		return BadGroupAttributes
	}
	if a.BatchControl < NoBatching || a.BatchControl > BatchBoth {
		return BadGroupAttributes
	}
	switch a.MergeControl {
	case 0, DissolveMerge, DontMerge:
	default:
		return BadGroupAttributes
	}
	if a.SourceGroupName != "" {
		if len(a.SourceGroupName) > MaxGroupNameLength {
			return NameTooLong
		}
		if a.SourceGroupName == a.GroupName {
			return InvalidSourceGroup // a group cannot reflect itself
		}
		if !a.SourceReflectionNumPhases.Valid() {
			return BadGroupAttributes
		}
	} else if a.SourceReflectionNumPhases != 0 && !a.SourceReflectionNumPhases.Valid() {
		return BadGroupAttributes
	}
	return OK
}

func checkPhases(n NumPhases) Code {
	if !n.Valid() {
		return BadParameter
	}
	return OK
}
