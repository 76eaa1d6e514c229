# oidc-judge container image.
#   docker build -t oidc-judge:0.1.0 .
#   docker run --rm -p 8080:8080 -p 9191:9191 -p 8082:8082 -p 8081:8081 \
#     -e OIDC_PROVIDER=https://idp.example.com -e CLIENT_ID=my-app -e CLIENT_SECRET=… oidc-judge:0.1.0
#   docker run --rm -e … oidc-judge:0.1.0 check-config     # the effective configuration, secrets redacted
#   docker run --rm oidc-judge:0.1.0 --version
#   kubectl exec … -- oidc-judge sessions revoke --sub …    # `oidc-judge` is on PATH in the image
#
# Every stage starts from the same image, so better-sqlite3's native addon, compiled in `deps`,
# matches the Node.js ABI and the glibc of `runtime`:
#   build    all dependencies, then the TypeScript compiled to dist/src;
#   deps     production dependencies only, the addon compiled, its build leftovers removed;
#   runtime  node, dist/src, production node_modules, protos and templates; non-root, no compiler.
# Node.js 24 is the Active LTS (20 reached end of life in April 2026); the code also runs on 20.19+ and 22.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS toolchain
# better-sqlite3 builds from source when no prebuilt binary can be downloaded.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./

FROM toolchain AS build
# --ignore-scripts: `prepare` (tsc) would run before the sources are here; the addon is not needed to compile.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# cli.js starts with `#!/usr/bin/env node`: executable, so the runtime can put it on PATH.
RUN npx tsc -p tsconfig.json && chmod 755 dist/src/cli.js

FROM toolchain AS deps
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm rebuild better-sqlite3 \
 && cd node_modules/better-sqlite3 \
 && mv build/Release/better_sqlite3.node /tmp/ \
 && rm -rf build deps src \
 && mkdir -p build/Release \
 && mv /tmp/better_sqlite3.node build/Release/ \
 && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json ./
COPY proto ./proto
COPY templates ./templates
# The embedded session store's default directory (SESSION_STORE_PATH); mount a volume there.
# `oidc-judge` on PATH (as `npm link` would do), for `kubectl exec … -- oidc-judge sessions revoke …`.
RUN mkdir -p /var/lib/authservice && chown 65532:65532 /var/lib/authservice \
 && ln -s /app/dist/src/cli.js /usr/local/bin/oidc-judge
# A numeric user, so that Kubernetes' runAsNonRoot can check it; the code stays root-owned, read-only.
USER 65532:65532
EXPOSE 8080 8081 8082 9191
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["serve"]
