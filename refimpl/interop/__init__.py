"""Checking other implementations: verify, golden vectors, adapters for other frameworks."""
