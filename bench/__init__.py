"""Benchmarks of liandong (docs/performance.md).

``./run bench`` (= ``python -m bench``) runs every benchmark in one process and prints a summary;
each benchmark also runs alone (``python -m bench.verify_pipeline``) and writes its results to
``bench/results/<name>.json``.

Benchmarks compare rates measured in the same run on the same machine (ratios), not absolute
times; nothing here is a pass/fail test, and no unit test is timed.
"""
