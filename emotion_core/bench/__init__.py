"""Benchmarks that print their figures side by side against a baseline (training, live)."""
