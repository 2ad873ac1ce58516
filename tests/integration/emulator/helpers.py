"""Shared constants and control-plane helpers of the emulator tests."""

from __future__ import annotations

SEED = 2026
TODAY = "2026-11-25"
UA = "MusicboxdTests/1.0 ( tests@musicboxd.example )"


def set_config(http, **settings):
    resp = http.post("/_emulator/config", json=settings)
    resp.raise_for_status()
    return resp.json()


def add_faults(http, *rules):
    resp = http.post("/_emulator/faults", json={"rules": list(rules)})
    resp.raise_for_status()
    return resp.json()


def stats(http):
    resp = http.get("/_emulator/stats")
    resp.raise_for_status()
    return resp.json()
