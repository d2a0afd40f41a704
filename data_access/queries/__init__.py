"""Query functions: a connection and keyword filters in, a tidy DataFrame out.

They neither open nor commit sessions: the caller owns the transaction.
"""
