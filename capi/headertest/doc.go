// Package headertest pins down include/ha_gs.h, the hand-written C contract
// of libha_gs, against docs/c-contract.md and internal/wire.
//
// It has no cgo. Its tests shell out to the system's cc and c++: they
// compile the header alone in several language modes, compile
// testdata/conformance.c (every function, type, constant and field), build
// and run a generated program that prints every constant so the values can
// be compared with internal/wire, and check that the header declares no
// name outside the ha_gs_/HA_GS_ prefixes.
package headertest
