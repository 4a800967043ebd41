"""Measurements of the running product: latency, throughput and understanding."""
