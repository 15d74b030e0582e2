# Multi-stage image on Node 24 LTS; runs as the unprivileged `node` user.
# The gateway runs its TypeScript sources directly (Node type stripping), so there is no build output:
# the first stage installs production dependencies only, the second copies what runs.
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
# keys, audit segments and generated dev material live under /app/var: mount a volume there
RUN mkdir -p /app/var && chown node:node /app/var
USER node
EXPOSE 3000
# a container publishes its port: listen on every interface (the demo alone would bind loopback)
ENV VPM_HOST=0.0.0.0
# VPM_CONFIG names the configuration file (mount your own; config/demo.yaml is for development only)
ENV VPM_CONFIG=/app/config/demo.yaml
HEALTHCHECK --interval=30s --timeout=3s CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "bin/vpm-gateway.js"]
CMD ["start"]
