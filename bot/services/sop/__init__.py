"""The daily SOP: cron schedules (messages, briefing, Q&A), segment-targeted sends, keyword
hooks, the first-response clock and FAQ answers, operators steering it; its loop."""
