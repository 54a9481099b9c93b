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
# Heap sizing, measured with `npm run bench` (bench/RESULTS.md): 8 MB young-generation semi-spaces instead of 16,
# and the old generation grown by 25% after each full GC instead of V8's up-to-4x, keep peak RSS near 115 MB
# under load with 150 KB Pods and near 125 MB with 340 KB Pods (default flags: 135 and 200 MB), under the chart's
# 128Mi request; typical Pods cost the same CPU, Pods of 150 KB and more ~30% more. npm start and the bench use
# these same flags (test/bench/node-flags.test.ts keeps them in step).
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=8", "--heap-growing-percent=25", "dist/main.js"]
