"""All SQL of seedbed lives in these repositories."""
