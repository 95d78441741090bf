//go:build !race

package daemontest_test

// simSeeds is how many seeds each domain size runs.
const simSeeds = 4
