"""Devices (phones' push tokens) and the caller's notification preferences."""
