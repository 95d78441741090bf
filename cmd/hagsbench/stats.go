package main

import (
	"math"
	"slices"
)

// summary describes a set of latency samples, in microseconds.
type summary struct {
	N    int     `json:"samples"`
	P50  float64 `json:"p50_us"`
	P99  float64 `json:"p99_us"`
	Min  float64 `json:"min_us"`
	Max  float64 `json:"max_us"`
	Mean float64 `json:"mean_us"`
}

// summarize computes the summary of samples given in nanoseconds.
// Percentiles are nearest-rank: p50 of 1..100 is 50, p99 is 99.
func summarize(ns []int64) summary {
	if len(ns) == 0 {
		return summary{}
	}
	us := make([]float64, len(ns))
	var sum float64
	for i, v := range ns {
		us[i] = float64(v) / 1e3
		sum += us[i]
	}
	slices.Sort(us)
	return summary{
		N:    len(us),
		P50:  percentile(us, 50),
		P99:  percentile(us, 99),
		Min:  us[0],
		Max:  us[len(us)-1],
		Mean: sum / float64(len(us)),
	}
}

// percentile returns the nearest-rank p-th percentile of sorted values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// median returns the median of values (not necessarily sorted); 0 for none.
func median(values []float64) float64 {
	if len(values) == 0 {
		return 0
	}
	s := slices.Clone(values)
	slices.Sort(s)
	return percentile(s, 50)
}
