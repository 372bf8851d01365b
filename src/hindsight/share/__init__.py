"""Sharing what was found: clips of replays and the findings report."""
