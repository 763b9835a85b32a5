"""Loopback emulators of external services, so tests and newcomers can run full flows with no real account.

They listen on 127.0.0.1 only and keep everything in memory.
"""
