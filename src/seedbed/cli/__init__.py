"""The ``seedbed`` command line. It calls the same services as the HTTP API."""
