"""Members: the ledger (arrivals, reachability, activity), their messages in the communities,
lifecycle stages and win-back, segments, value tiers, tags by hand; their loops."""
