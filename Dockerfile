FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --bin folio

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/folio /usr/local/bin/folio
WORKDIR /data
ENV FOLIO_BIND=0.0.0.0:8080
EXPOSE 8080
CMD ["folio", "serve"]
