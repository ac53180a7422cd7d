"""The HTTP side: the JSON API and the form page, reading requests, keys and rate limits,
CORS, /docs, the access log and the SSE format."""
