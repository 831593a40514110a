"""Drift monitoring: the reference profile saved with every run, drift statistics, `mlengine drift`."""
