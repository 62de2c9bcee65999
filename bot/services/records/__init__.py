"""Records the team looks up: the audit log of team commands, a member's profile (``/member``),
CSV exports."""
