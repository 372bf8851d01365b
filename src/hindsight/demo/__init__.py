"""Demo data: synthetic web pages and simulated visitor captures for first-run showcases."""
