"""HTTP surfaces. Routes validate input, call one service function, shape the response."""
