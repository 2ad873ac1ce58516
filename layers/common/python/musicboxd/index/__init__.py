"""Tier-1 search: a compact in-memory index over the popular tier (pure Python + stdlib).

``text``  folding and tokenization shared by the index build and the queries;
``core``  the index itself (build, serialize, load, suggest, confident search answers).
"""
