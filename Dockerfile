# Build: dependencies in a layer of their own, so a source change rebuilds
# only folio itself.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# Dummy targets: Cargo.toml names a lib, a bin and an example, and cargo
# wants each file to exist before it builds anything.
RUN mkdir -p src bench \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > bench/ceiling.rs \
    && cargo build --release --locked --bin folio \
    && rm -rf src bench
# Templates, migrations and static files are compiled into the binary.
COPY src ./src
COPY templates ./templates
COPY migrations ./migrations
COPY static ./static
COPY bench ./bench
# COPY keeps the files' old mtimes, which can predate the dummy build:
# touch them so cargo rebuilds folio instead of keeping the dummy.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin folio

FROM debian:bookworm-slim
# curl is for the health check.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/*
RUN useradd --system --user-group --home-dir /data --shell /usr/sbin/nologin folio \
    && mkdir /data \
    && chown folio:folio /data
COPY --from=build /src/target/release/folio /usr/local/bin/folio
USER folio
# The default DATABASE_URL, sqlite://folio.db, lands here; mount a volume on it.
WORKDIR /data
ENV FOLIO_BIND=0.0.0.0:8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD curl -fsS -o /dev/null http://127.0.0.1:8080/healthz || exit 1
# `docker run IMAGE admin create --username U` runs the other commands.
ENTRYPOINT ["folio"]
CMD ["serve"]
