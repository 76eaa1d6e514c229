# oidc-judge container image: build with dev dependencies, ship production dependencies only.
FROM node:20-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 builds from source when no prebuilt binary can be fetched.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json tsconfig.json ./
COPY src ./src
COPY test ./test
COPY scripts ./scripts
COPY proto ./proto
COPY templates ./templates
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY package.json ./
COPY proto ./proto
COPY templates ./templates
RUN mkdir -p /var/lib/authservice && chown 65532:65532 /var/lib/authservice
USER 65532:65532
EXPOSE 8080 8081 8082 9191
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["serve"]
