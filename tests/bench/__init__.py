"""Checks on the benchmark scripts in bench/."""
