# Multi-stage image on Node 24 LTS; runs as the unprivileged `node` user on a read-only root filesystem.
# The gateway runs its TypeScript sources directly (Node type stripping), so there is no build output:
# the first stage installs production dependencies only, the second copies what runs (owned by root,
# so the gateway cannot change its own code).
#
#   docker run --read-only --tmpfs /tmp --init -p 3000:3000 \
#     -v vpm-var:/app/var -v "$PWD/gateway.yaml:/etc/vpm/gateway.yaml:ro" -e VPM_CONFIG=/etc/vpm/gateway.yaml \
#     vpm-gateway start --workers 2
#
# The only paths it writes are under /app/var (token signing keys var/keys, the audit log var/audit, its
# keys and file witness var/audit-key, the demo's generated material var/dev): one volume, or one per
# path (docs/deploy.md: a shared keys volume, an audit volume per instance). test/deploy/read-only-image.test.ts
# builds and runs this file without a Docker engine (docs/deploy.md: How the image is verified).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY src ./src
COPY providers ./providers
COPY config ./config
# created here so that a new volume mounted on any of them starts with the node user's ownership
RUN mkdir -p /app/var/keys /app/var/audit /app/var/audit-key /app/var/dev \
  && chown -R node:node /app/var && chmod -R 0750 /app/var
VOLUME ["/app/var"]
USER node
EXPOSE 3000
# a container publishes its port: listen on every interface (the demo alone would bind loopback)
ENV VPM_HOST=0.0.0.0
# VPM_CONFIG names the configuration file (mount your own; config/demo.yaml is for development only)
ENV VPM_CONFIG=/app/config/demo.yaml
# liveness only, on $PORT (3000 without it); a load balancer asks /readyz (store, keys, audit log, shutdown)
# before sending logins
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/vpm-gateway.js"]
# SIGTERM (docker stop) drains every worker: give it more than server.shutdown_timeout (docker stop -t 15)
CMD ["start"]
