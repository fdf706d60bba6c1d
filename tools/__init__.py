"""Developer tools: evaluation, figures, bench, load test, fallback and facet tuning, NLU reports.
Nothing outside tests/ imports from here (the product and ops/ stand without it)."""
