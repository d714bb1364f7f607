"""Protect your own pictures: signing keys, Content Credentials, a registry of originals."""
