"""Use cases. Each function runs inside a unit of work it is handed and never commits."""
