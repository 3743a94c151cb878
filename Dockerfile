# syntax=docker/dockerfile:1
# One image for both processes of the webhook delivery service:
#   API:    node dist/api/server.js   (default CMD, listens on $PORT, health at GET /healthz)
#   worker: node dist/worker.js       (bundles dist/workflows at start, so it needs node_modules at run time)

ARG NODE_IMAGE=node:20-bookworm-slim

# --- build: install every dependency and compile TypeScript (src -> dist) ---
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: production dependencies + compiled output, run as the unprivileged `node` user ---
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# Production deps include @temporalio/worker (webpack + swc) for bundling workflow code at worker start.
RUN --mount=type=cache,target=/root/.npm \
    npm ci --omit=dev --no-audit --no-fund
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
CMD ["node", "dist/api/server.js"]
