# syntax=docker/dockerfile:1
#
# One image per Rust service, from the repository root:
#
#   docker build --build-arg SERVICE=auth -t ticketing/auth .
#
# (skaffold.yaml does this for auth, tickets, orders, payments and expiration.)
#
# chef     the Rust toolchain and cargo-chef
# planner  recipe.json: the workspace's manifests and Cargo.lock, without the sources
# deps     the dependencies of every binary, cooked (release profile): the slow part, which
#          depends on the Cargo.toml files and Cargo.lock only, never on SERVICE
# builder  the one service, compiled on top of the cooked dependencies. Its base is
#          DEPS_IMAGE: the `deps` stage of this file by default; skaffold builds `deps` once as
#          the image ticketing/rust-deps and passes it in (an artifact dependency), so the five
#          service builds, on Cloud Build in particular, share one cook instead of five.
#          `--bin` without `-p` resolves features for the whole workspace, as the cook did, so
#          no dependency is rebuilt per service.
# runtime  Debian slim with CA certificates only, the binary, a non-root user.
#
# The builder and the runtime are the same Debian release, so the binary finds the glibc it was
# linked against. TLS is rustls everywhere (no OpenSSL); ring needs only the C compiler the
# rust image has.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=trixie
ARG DEPS_IMAGE=deps

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS chef
ARG CARGO_CHEF_VERSION=0.1.78
RUN cargo install cargo-chef --locked --version ${CARGO_CHEF_VERSION}
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS deps
COPY --from=planner /app/recipe.json recipe.json
RUN cargo chef cook --release --locked --bins --recipe-path recipe.json

FROM ${DEPS_IMAGE} AS builder
WORKDIR /app
COPY . .
# Declared after the cook, so that layer is shared by every service.
ARG SERVICE
RUN if [ -z "${SERVICE}" ]; then \
        echo "build with --build-arg SERVICE=<auth|tickets|orders|payments|expiration>" >&2; exit 1; \
    fi \
 && cargo build --release --locked --bin "${SERVICE}" \
 && cp "target/release/${SERVICE}" /app/service

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# Unpinned on purpose: Debian's security updates replace old package versions, so a pinned
# version stops resolving; the release (DEBIAN_RELEASE) is pinned instead.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 ticketing \
 && useradd --system --uid 10001 --gid ticketing --no-create-home --shell /usr/sbin/nologin ticketing
ARG SERVICE
LABEL org.opencontainers.image.title="ticketing-${SERVICE}" \
      org.opencontainers.image.description="Ticketing ${SERVICE} service"
COPY --from=builder /app/service /usr/local/bin/ticketing-service
# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
ENV PORT=3000 \
    RUST_LOG=info
EXPOSE 3000
# Exec form: the service is PID 1 and gets SIGTERM itself (graceful shutdown, DESIGN.md §6).
ENTRYPOINT ["/usr/local/bin/ticketing-service"]
