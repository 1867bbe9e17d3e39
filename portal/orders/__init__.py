"""The order domain: life cycle, numbers, queries. Never imports Flask."""
