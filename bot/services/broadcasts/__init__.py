"""Segmented broadcasts: drafts, preview, send, progress, tallies, A/B; their pump loop and
delivery hook."""
