"""The operators' dashboard: a Telegram Mini App and a desktop page over the same services."""
