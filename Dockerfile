# One image for every service of the local network: the same install as the README's
# scripts/setup (a venv with the project, and the npm tools: ganache, solc, newman).
FROM python:3.11-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /scn
COPY . .
RUN scripts/setup
ENV PATH=/scn/.venv/bin:$PATH
