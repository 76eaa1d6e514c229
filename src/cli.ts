#!/usr/bin/env node
// The `oidc-judge` command. Everything happens in the composition root (main.ts).
import { run } from './main.js';

run();
