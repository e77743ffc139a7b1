"""HTTP entrypoint: FastAPI routers, schemas and RFC 9457 problem responses."""
