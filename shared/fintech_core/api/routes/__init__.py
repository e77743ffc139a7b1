"""Routers. Each module exposes `router()`; phases list the ones they mount."""
