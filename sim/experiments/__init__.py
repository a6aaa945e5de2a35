"""Experiments: everything that runs simulations (ensembles, streamed runs, compare, sweep, baselines).

It sits above the model, the tables and the metric layer, and below the views and the CLI:
analysis and plots never run a simulation themselves.
"""
