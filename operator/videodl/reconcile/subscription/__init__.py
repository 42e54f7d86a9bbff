"""Reconciling VideoSubscriptions: schedule slots, scans, new videos, retention. Pure."""
