"""Eval runs: datasets, metrics, a runner that writes a run folder, reports and comparisons.

``summariser eval run`` and ``summariser eval compare`` are the command-line edge over this
package. The shapes every part shares are in :mod:`evals.core`.
"""
