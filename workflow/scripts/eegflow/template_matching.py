"""Counting pairs of similar templates for sample and approximate entropy, compiled by numba.

A template of length m is ``x[i : i + m]``; two templates match when every pair of
their samples differs by at most the tolerance r (Chebyshev distance <= r). Comparing
every pair costs N^2 per series. Here the templates are sorted by their first sample,
so the candidates of template p are the run of the following templates whose first
sample lies within r of its own: the run ends where ``first[q] - first[p] > r``, and
only those pairs are compared, on contiguous copies of the sorted template samples.
Every comparison is the same floating-point test ``|a - b| <= r`` as the all-pairs
definition (the sort is monotone, so no matching pair lies beyond the run's end), so
the counts are identical. On 3,000-sample EEG windows about 1 pair in 10 is a candidate.

This module imports numba (about 0.4 s, and 0.2-0.6 s to load the compiled code);
:mod:`.complexity` imports it only for calls large enough to repay that
(``COMPILED_FROM_COMPARISONS``) and counts smaller ones with NumPy, so planning, the
jobs that compute no entropy and short recordings never load it; once loaded in a
process (a warm worker serving many jobs), it counts every call. Compiled code is
cached beside the module (``cache=True``), so it is compiled once, not per job.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def _sort_templates(x, m, n_templates, samples):
    """Sort the first ``n_templates`` templates by their first sample.

    Fills ``samples[k, p]`` with sample k of the p-th template in sorted order for
    k = 0..m (NaN past the series' end, so it never matches) and returns the order.
    """
    order = np.argsort(x[:n_templates])
    for k in range(m + 1):
        for p in range(n_templates):
            i = order[p] + k
            samples[k, p] = x[i] if i < x.shape[0] else np.nan
    return order


@njit(cache=True, nogil=True)
def _run_end(first, p, end, tolerance):
    """End (exclusive) of the run of templates after p whose first sample is within r.

    ``end`` is the previous template's run end: runs end no earlier as p grows.
    """
    end = max(end, p + 1)
    while end < first.shape[0] and first[end] - first[p] <= tolerance:
        end += 1
    return end


@njit(cache=True, nogil=True, inline="always")
def _matches(samples, p, q, m, tolerance):
    """Whether sorted templates p and q match over length m, and over length m + 1."""
    match = True
    for k in range(1, m):
        match &= abs(samples[k, q] - samples[k, p]) <= tolerance
    return match, match & (abs(samples[m, q] - samples[m, p]) <= tolerance)


@njit(cache=True, nogil=True)
def count_template_pairs(series, tolerances, m):
    """Number of matching pairs of distinct templates, as sample entropy counts them.

    Parameters
    ----------
    series : ndarray, shape (n_series, N), float64
    tolerances : ndarray, shape (n_series,)
        Absolute tolerance r of each series.
    m : int
        Template length.

    Returns
    -------
    ndarray, shape (n_series, 2), int64
        Per series B (pairs matching over length m) and A (over length m + 1), both
        among the first N - m templates.
    """
    n_series, n = series.shape
    n_templates = n - m
    counts = np.zeros((n_series, 2), dtype=np.int64)
    samples = np.empty((m + 1, n_templates))
    for s in range(n_series):
        tolerance = tolerances[s]
        _sort_templates(series[s], m, n_templates, samples)
        end = 0
        pairs_m = pairs_m1 = 0  # local sums: the inner loop stays vectorisable
        for p in range(n_templates):
            end = _run_end(samples[0], p, end, tolerance)
            for q in range(p + 1, end):
                short, long = _matches(samples, p, q, m, tolerance)
                pairs_m += short
                pairs_m1 += long
        counts[s, 0] = pairs_m
        counts[s, 1] = pairs_m1
    return counts


@njit(cache=True, nogil=True)
def count_template_matches(series, tolerances, m):
    """Per template, the number of other templates it matches, as approximate entropy counts.

    Parameters
    ----------
    series : ndarray, shape (n_series, N), float64
    tolerances : ndarray, shape (n_series,)
        Absolute tolerance r of each series.
    m : int
        Template length.

    Returns
    -------
    ndarray, shape (n_series, 2, N - m + 1), int64
        ``[s, 0, i]``: templates of length m (of all N - m + 1) matching template i;
        ``[s, 1, i]``: templates of length m + 1 (of all N - m) matching template i,
        for i < N - m (the last entry is 0). The template itself is not counted.
    """
    n_series, n = series.shape
    n_templates = n - m + 1
    counts = np.zeros((n_series, 2, n_templates), dtype=np.int64)
    samples = np.empty((m + 1, n_templates))
    sorted_counts = np.empty((2, n_templates), dtype=np.int64)
    for s in range(n_series):
        tolerance = tolerances[s]
        order = _sort_templates(series[s], m, n_templates, samples)
        sorted_counts[:] = 0
        end = 0
        for p in range(n_templates):
            end = _run_end(samples[0], p, end, tolerance)
            matches_m = matches_m1 = 0
            for q in range(p + 1, end):
                short, long = _matches(samples, p, q, m, tolerance)
                matches_m += short
                matches_m1 += long
                sorted_counts[0, q] += short
                sorted_counts[1, q] += long
            sorted_counts[0, p] += matches_m
            sorted_counts[1, p] += matches_m1
        for p in range(n_templates):
            counts[s, 0, order[p]] = sorted_counts[0, p]
            counts[s, 1, order[p]] = sorted_counts[1, p]
    return counts
