# syntax=docker/dockerfile:1
# Samsa: build with the full toolchain, run on a slim image with production dependencies only.

FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json openapi.yaml ./
COPY src ./src
RUN npm run build

FROM node:20-slim AS runtime
# A container listens on all interfaces, so without authentication Samsa would refuse to start:
# this image serves anonymously (and warns at start) until SAMSA_USERS_FILE or a JWT key is set,
# after which SAMSA_ALLOW_ANONYMOUS no longer matters. See README "Security".
ENV NODE_ENV=production \
    SAMSA_DATA_DIR=/data \
    SAMSA_HOST=0.0.0.0 \
    SAMSA_ALLOW_ANONYMOUS=true \
    SAMSA_PORT=8082 \
    SAMSA_KAFKA_PORT=9092
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force
COPY --from=build /app/dist ./dist
# The server builds its routes and validators from the spec at start-up: it must ship with the code.
COPY openapi.yaml ./
# The image's unprivileged `node` user (uid 1000) owns the data volume; nothing runs as root.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME /data
# HTTP, and the Kafka protocol. Metadata advertises the address a connection arrives at, which is
# the container's own behind a published port: set SAMSA_KAFKA_ADVERTISED_LISTENER to what clients use.
EXPOSE 8082 9092
# Ready, not merely alive: /readyz is 503 while the logs recover, so the start period covers recovery.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SAMSA_PORT||8082)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# The CLI drains in-flight requests and shuts the broker down on SIGTERM (docker stop's default).
STOPSIGNAL SIGTERM
CMD ["node", "dist/cli.js", "serve"]
