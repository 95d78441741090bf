//go:build race

package engine

// raceEnabled: the race detector slows the engine's single-threaded code
// tenfold and finds nothing in it; the random tests run fewer seeds.
const raceEnabled = true
