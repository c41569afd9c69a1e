"""aiohttp adapter: HTTP in, SCPI envelopes out."""
