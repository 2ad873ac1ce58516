"""Services: use cases over ports, with no AWS or HTTP imports."""
