# The lab's api (and, from phase 2, its workers) as an image; compose.yaml wires it to the servers.
FROM python:3.11-slim

# The installed package has no repo root to put .lab under; keep embedded-stack state writable.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FINCORE_LAB_DIR=/app/.lab

# A fixed uid so files written to mounted volumes have a predictable owner.
RUN useradd --create-home --uid 10001 fincore

WORKDIR /app

# Runtime dependencies only (no dev extra): tests and notebooks run on the host, not in the image.
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY phases ./phases
RUN pip install --no-cache-dir . \
    && mkdir -p /app/.lab && chown fincore:fincore /app/.lab

# Not root: a compromised api process must not own the container.
USER fincore

EXPOSE 8000

CMD ["fcl", "serve", "--host", "0.0.0.0", "--port", "8000"]
