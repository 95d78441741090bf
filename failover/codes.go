package failover

import (
	"errors"
	"fmt"
)

// Code is a return code of the failover manager: a Win32 error value, as
// MS-CMRP returns them. Names and values never change.
type Code uint32

// Return codes.
const (
	CodeSuccess                       Code = 0
	CodeAccessDenied                  Code = 5
	CodeInvalidHandle                 Code = 6
	CodeSharingPaused                 Code = 70
	CodeInvalidParameter              Code = 87
	CodeInvalidName                   Code = 123
	CodeIOPending                     Code = 997
	CodeCircularDependency            Code = 1059
	CodeTimeout                       Code = 1460
	CodeDependentResourceExists       Code = 5001
	CodeDependencyNotFound            Code = 5002
	CodeHostNodeNotAvailable          Code = 5005
	CodeResourceNotAvailable          Code = 5006
	CodeResourceNotFound              Code = 5007
	CodeObjectAlreadyExists           Code = 5010
	CodeGroupNotAvailable             Code = 5012
	CodeGroupNotFound                 Code = 5013
	CodeHostNodeNotResourceOwner      Code = 5015
	CodeResourceOnline                Code = 5019
	CodeInvalidState                  Code = 5023
	CodeResourceFailed                Code = 5038
	CodeClusterNodeNotFound           Code = 5042
	CodeClusterNodeDown               Code = 5050
	CodeClusterNodeNotPaused          Code = 5058
	CodeClusterNodePaused             Code = 5070
	CodeNodeCantHostResource          Code = 5071
	CodeClusterResourceTypeNotFound   Code = 5078
	CodeClusterGroupMoving            Code = 5908
	CodeDependencyTreeTooComplex      Code = 5929
	CodeClusterResourceProviderFailed Code = 5942
	CodeClusterResourceConfiguration  Code = 5943
	CodeClusterResourceLockedStatus   Code = 5960
)

var codeNames = map[Code]string{
	CodeSuccess:                       "ERROR_SUCCESS",
	CodeAccessDenied:                  "ERROR_ACCESS_DENIED",
	CodeInvalidHandle:                 "ERROR_INVALID_HANDLE",
	CodeSharingPaused:                 "ERROR_SHARING_PAUSED",
	CodeInvalidParameter:              "ERROR_INVALID_PARAMETER",
	CodeInvalidName:                   "ERROR_INVALID_NAME",
	CodeIOPending:                     "ERROR_IO_PENDING",
	CodeCircularDependency:            "ERROR_CIRCULAR_DEPENDENCY",
	CodeTimeout:                       "ERROR_TIMEOUT",
	CodeDependentResourceExists:       "ERROR_DEPENDENT_RESOURCE_EXISTS",
	CodeDependencyNotFound:            "ERROR_DEPENDENCY_NOT_FOUND",
	CodeHostNodeNotAvailable:          "ERROR_HOST_NODE_NOT_AVAILABLE",
	CodeResourceNotAvailable:          "ERROR_RESOURCE_NOT_AVAILABLE",
	CodeResourceNotFound:              "ERROR_RESOURCE_NOT_FOUND",
	CodeObjectAlreadyExists:           "ERROR_OBJECT_ALREADY_EXISTS",
	CodeGroupNotAvailable:             "ERROR_GROUP_NOT_AVAILABLE",
	CodeGroupNotFound:                 "ERROR_GROUP_NOT_FOUND",
	CodeHostNodeNotResourceOwner:      "ERROR_HOST_NODE_NOT_RESOURCE_OWNER",
	CodeResourceOnline:                "ERROR_RESOURCE_ONLINE",
	CodeInvalidState:                  "ERROR_INVALID_STATE",
	CodeResourceFailed:                "ERROR_RESOURCE_FAILED",
	CodeClusterNodeNotFound:           "ERROR_CLUSTER_NODE_NOT_FOUND",
	CodeClusterNodeDown:               "ERROR_CLUSTER_NODE_DOWN",
	CodeClusterNodeNotPaused:          "ERROR_CLUSTER_NODE_NOT_PAUSED",
	CodeClusterNodePaused:             "ERROR_CLUSTER_NODE_PAUSED",
	CodeNodeCantHostResource:          "ERROR_NODE_CANT_HOST_RESOURCE",
	CodeClusterResourceTypeNotFound:   "ERROR_CLUSTER_RESOURCE_TYPE_NOT_FOUND",
	CodeClusterGroupMoving:            "ERROR_CLUSTER_GROUP_MOVING",
	CodeDependencyTreeTooComplex:      "ERROR_DEPENDENCY_TREE_TOO_COMPLEX",
	CodeClusterResourceProviderFailed: "ERROR_CLUSTER_RESOURCE_PROVIDER_FAILED",
	CodeClusterResourceConfiguration:  "ERROR_CLUSTER_RESOURCE_CONFIGURATION_ERROR",
	CodeClusterResourceLockedStatus:   "ERROR_CLUSTER_RESOURCE_LOCKED_STATUS",
}

// AllCodes lists every return code, CodeSuccess first, then by value.
func AllCodes() []Code {
	out := make([]Code, 0, len(codeNames))
	for c := range codeNames {
		out = append(out, c)
	}
	for i := 1; i < len(out); i++ { // insertion sort: a short, fixed list
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// String returns the code's Win32 name, e.g. "ERROR_IO_PENDING".
func (c Code) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("ERROR_%d", uint32(c))
}

// Known reports whether c is one of the codes above.
func (c Code) Known() bool { _, ok := codeNames[c]; return ok }

// ParseCode returns the code named name ("ERROR_IO_PENDING").
func ParseCode(name string) (Code, error) {
	for c, n := range codeNames {
		if n == name {
			return c, nil
		}
	}
	return 0, fmt.Errorf("failover: unknown return code %q", name)
}

// Error is the error every operation returns for a code other than
// ERROR_SUCCESS: the code, and a message that says in words what went
// wrong with which object.
type Error struct {
	Code    Code
	Message string
}

// Error returns "ERROR_NAME (code): message".
func (e *Error) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s (%d)", e.Code, uint32(e.Code))
	}
	return fmt.Sprintf("%s (%d): %s", e.Code, uint32(e.Code), e.Message)
}

// Is matches another *Error with the same code, so that
// errors.Is(err, failover.ErrIOPending) holds for any message.
func (e *Error) Is(target error) bool {
	var t *Error
	return errors.As(target, &t) && t.Code == e.Code
}

// Errorf returns an *Error with code c and a formatted message.
func Errorf(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code err carries: CodeSuccess for nil, the Code of an
// *Error anywhere in err's chain, and ok=false for any other error (a lost
// connection, a cancelled context), which carries no code.
func CodeOf(err error) (Code, bool) {
	if err == nil {
		return CodeSuccess, true
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code, true
	}
	return 0, false
}

// Sentinels, one per code, for errors.Is. They carry no message.
var (
	ErrAccessDenied                  = &Error{Code: CodeAccessDenied}
	ErrInvalidHandle                 = &Error{Code: CodeInvalidHandle}
	ErrSharingPaused                 = &Error{Code: CodeSharingPaused}
	ErrInvalidParameter              = &Error{Code: CodeInvalidParameter}
	ErrInvalidName                   = &Error{Code: CodeInvalidName}
	ErrIOPending                     = &Error{Code: CodeIOPending}
	ErrCircularDependency            = &Error{Code: CodeCircularDependency}
	ErrTimeout                       = &Error{Code: CodeTimeout}
	ErrDependentResourceExists       = &Error{Code: CodeDependentResourceExists}
	ErrDependencyNotFound            = &Error{Code: CodeDependencyNotFound}
	ErrHostNodeNotAvailable          = &Error{Code: CodeHostNodeNotAvailable}
	ErrResourceNotAvailable          = &Error{Code: CodeResourceNotAvailable}
	ErrResourceNotFound              = &Error{Code: CodeResourceNotFound}
	ErrObjectAlreadyExists           = &Error{Code: CodeObjectAlreadyExists}
	ErrGroupNotAvailable             = &Error{Code: CodeGroupNotAvailable}
	ErrGroupNotFound                 = &Error{Code: CodeGroupNotFound}
	ErrHostNodeNotResourceOwner      = &Error{Code: CodeHostNodeNotResourceOwner}
	ErrResourceOnline                = &Error{Code: CodeResourceOnline}
	ErrInvalidState                  = &Error{Code: CodeInvalidState}
	ErrResourceFailed                = &Error{Code: CodeResourceFailed}
	ErrClusterNodeNotFound           = &Error{Code: CodeClusterNodeNotFound}
	ErrClusterNodeDown               = &Error{Code: CodeClusterNodeDown}
	ErrClusterNodeNotPaused          = &Error{Code: CodeClusterNodeNotPaused}
	ErrClusterNodePaused             = &Error{Code: CodeClusterNodePaused}
	ErrNodeCantHostResource          = &Error{Code: CodeNodeCantHostResource}
	ErrClusterResourceTypeNotFound   = &Error{Code: CodeClusterResourceTypeNotFound}
	ErrClusterGroupMoving            = &Error{Code: CodeClusterGroupMoving}
	ErrDependencyTreeTooComplex      = &Error{Code: CodeDependencyTreeTooComplex}
	ErrClusterResourceProviderFailed = &Error{Code: CodeClusterResourceProviderFailed}
	ErrClusterResourceConfiguration  = &Error{Code: CodeClusterResourceConfiguration}
	ErrClusterResourceLockedStatus   = &Error{Code: CodeClusterResourceLockedStatus}
)
