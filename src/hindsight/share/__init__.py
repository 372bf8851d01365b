"""Sharing what a researcher found: replay clips (``clips``); the findings report builds on it."""
