#!/usr/bin/env node
// The `vpm-gateway` program: the sources run directly on Node 22.18+/24 (type stripping).
import '../src/cli/main.ts';
