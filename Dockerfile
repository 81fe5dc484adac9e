# One image for every service of the product (gateway, four subgraphs, worker); docker-compose.yml
# picks the process with `command`. Build: `docker build -t membership-events .`
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: install with dev dependencies, compile TypeScript and bundle the console, then drop dev dependencies ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# better-sqlite3 (the embedded event store) compiles from source when no prebuilt binary matches.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
# Dependencies first, so a source change does not reinstall them. npm ci's postinstall applies the
# dependency patches (patches/), so they come with the lockfile.
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --no-audit --no-fund
# The sources tsconfig.build.json compiles (.dockerignore keeps tests, dist and local state out).
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime: compiled output and production dependencies only, as the unprivileged `node` user ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Files stay root-owned (read-only to the service); only the embedded store's data dir is writable.
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/supergraph.graphql ./supergraph.graphql
# The web console's static files (served at /console when CONSOLE_ENABLED=true).
COPY --from=build /app/console/dist ./console/dist
RUN mkdir -p /app/data && chown node:node /app/data
USER node
EXPOSE 4000
# The gateway by default; compose overrides this per service (dist/subgraphs/<name>/main.js, dist/scripts/worker.js),
# each with the same V8 flags (platform/node-flags.ts).
CMD ["node", "--max-semi-space-size=64", "--heap-growing-percent=100", "dist/gateway/main.js"]
