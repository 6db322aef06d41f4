"""The dispatcher: claims due messages, hands them to providers, records outcomes.

In: claimed batches from the outbox and provider policies (bulk size, daily UTC
window, retries). Out: one ``Decision`` per message, written back with its
timeline event. It owns time (windows, backoff, expiry); providers never sleep.
Never renders, never decides routing.
"""
