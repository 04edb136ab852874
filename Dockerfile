# syntax=docker/dockerfile:1
#
# The Bus auth toolchain as one image: the compiled bus-auth, bus-operator and
# bus-api-provider-auth executables and their alias links (bus,
# bus-operator-token, bus-operator-auth) on PATH, on a minimal glibc base,
# running as a non-root user. The default command is the provider:
#
#   docker build -t bus-api-provider-auth .
#   docker run --rm -p 127.0.0.1:8080:8080 -e BUS_AUTH_HS256_SECRET_FILE=/run/secrets/hs256 \
#     -v "$PWD/hs256:/run/secrets/hs256:ro" bus-api-provider-auth
#   docker run --rm bus-api-provider-auth bus-operator-token --help
#
# State: the SQLite store belongs in /var/lib/bus-auth (a volume owned by the
# runtime user; the compiled provider may write nowhere else), e.g.
# BUS_AUTH_STORE_PATH=/var/lib/bus-auth/bus-auth.sqlite, or use PostgreSQL.

ARG DENO_VERSION=2.9.6

# ---- build: compile the executables with the pinned Deno ----------------------
# Runs on the build machine's platform and cross-compiles for the target one,
# so multi-platform builds need no emulation here.
FROM --platform=$BUILDPLATFORM denoland/deno:${DENO_VERSION} AS build
ARG TARGETARCH
# The commit the executables report in --version (.git is not in the context):
#   docker build --build-arg BUS_AUTH_BUILD_COMMIT="$(git rev-parse HEAD)" .
ARG BUS_AUTH_BUILD_COMMIT=""
WORKDIR /src

# Dependencies first, so that a source change does not download them again.
COPY deno.json deno.lock ./
RUN deno install --frozen

# Sources (.dockerignore keeps tests, local state and secrets out).
COPY . .
RUN set -eu; \
    case "${TARGETARCH:-amd64}" in \
      amd64) target=x86_64-unknown-linux-gnu ;; \
      arm64) target=aarch64-unknown-linux-gnu ;; \
      *) echo "unsupported TARGETARCH ${TARGETARCH}: use linux/amd64 or linux/arm64" >&2; exit 1 ;; \
    esac; \
    BUS_AUTH_BUILD_COMMIT="${BUS_AUTH_BUILD_COMMIT}" deno task compile --target "$target" --out /rootfs/usr/local/bin; \
    install -d -m 0700 /rootfs/var/lib/bus-auth

# ---- runtime: only the executables, their links and the state folder ----------
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /rootfs/usr/local/bin/ /usr/local/bin/
COPY --from=build --chown=65532:65532 /rootfs/var/lib/ /var/lib/
USER 65532:65532
# The programs start on this base and the alias links resolve (exec form: no shell here).
# For a foreign --platform these two steps run under emulation (binfmt/QEMU).
RUN ["bus-api-provider-auth", "--version"]
RUN ["bus-operator-token", "--version"]
ENV BUS_AUTH_LISTEN=0.0.0.0:8080
VOLUME ["/var/lib/bus-auth"]
EXPOSE 8080
# Asks the /healthz of BUS_AUTH_LISTEN on loopback; needs no secret and no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["bus-api-provider-auth", "healthcheck"]
CMD ["bus-api-provider-auth", "serve"]
