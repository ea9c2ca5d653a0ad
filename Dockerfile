# One image for both app processes: the receiver (default command) and the worker
# (`node dist/src/bin/worker.js`). Debian-based, because the Temporal SDK's native core ships for glibc.
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: all dependencies, compile TypeScript, then drop dev dependencies ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
# rootDir is the project root, so entry points land in dist/src/ and workflow sources in
# dist/workflows/ (the worker bundles them from there at start).
# The dashboard's page files are not TypeScript: copied next to the compiled dashboard route.
RUN node_modules/.bin/tsc -p tsconfig.json \
 && cp -r src/dashboard dist/src/dashboard \
 && npm prune --omit=dev --no-audit --no-fund

# ---- runtime ----
FROM ${NODE_IMAGE}
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 3000
CMD ["node", "dist/src/bin/server.js"]
