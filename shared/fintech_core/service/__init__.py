"""Service layer: use cases over ports. It owns transactions (unit of work), never SQL or HTTP."""
