//go:build race

package daemontest_test

// simSeeds is how many seeds each domain size runs: fewer under the race
// detector, which slows the simulation tenfold.
const simSeeds = 2
