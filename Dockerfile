# Gracekeeper admission webhook image.
#   docker build -t ghcr.io/gracekeeper/gracekeeper:0.1.0 .
# Stage 1 compiles TypeScript with the dev dependencies; stage 2 installs production
# dependencies only; the final image is distroless Node (no shell, no package manager)
# running as a numeric non-root user, so the chart's runAsNonRoot can verify it.
ARG NODE_MAJOR=22

FROM node:${NODE_MAJOR}-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:${NODE_MAJOR}-bookworm-slim AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM gcr.io/distroless/nodejs${NODE_MAJOR}-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The CLI reads its version from package.json.
COPY package.json ./
USER 65532:65532
EXPOSE 8443 9090
# Exec form with node itself as PID 1: SIGTERM reaches the server, which drains before exiting.
# Arguments (--config, --tls-cert, --tls-key) come from the Pod spec.
ENTRYPOINT ["/nodejs/bin/node", "dist/main.js"]
