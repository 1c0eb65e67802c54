// Starts the real server binary ($MYCHAT_BIN) on an ephemeral port with a fresh data
// directory, learns the port from its "serving http://127.0.0.1:PORT/" log line, stops it
// with SIGTERM, and can start it again on the same port and data (the reconnect test).

import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const START_TIMEOUT_MS = 20_000;
/**
 * The server's defaults (every browser context connects from 127.0.0.1 like a household),
 * except that anyone may register, as on the original app: the tests register their users
 * through the form. Tests of the registration modes pass `registration: null` and choose.
 */
const OPEN_REGISTRATION = ['--registration', 'open'];
/** While editing static/ and templates/: serve them from disk (MYCHAT_ASSETS_DIR=repo root). */
const ASSET_ARGS = process.env.MYCHAT_ASSETS_DIR ? ['--assets-dir', process.env.MYCHAT_ASSETS_DIR] : [];

function binary() {
  const bin = process.env.MYCHAT_BIN;
  if (!bin) throw new Error('set MYCHAT_BIN to the mychat binary (make test-browser does)');
  return bin;
}

/** Runs the binary until it logs the address it serves; resolves with {child, port}. */
function launch(addr, dataDir, extraArgs, openRegistration, builtInAssets) {
  const defaults = openRegistration ? OPEN_REGISTRATION : [];
  const assets = builtInAssets ? [] : ASSET_ARGS;
  const args = ['--addr', addr, '--data-dir', dataDir, '--log', 'info', ...defaults, ...assets, ...extraArgs];
  // The binary reads MYCHAT_ASSETS_DIR itself too (every flag has its variable).
  const env = { ...process.env };
  if (builtInAssets) delete env.MYCHAT_ASSETS_DIR;
  const child = spawn(binary(), args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${START_TIMEOUT_MS} ms:\n${log}`));
    }, START_TIMEOUT_MS);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      log += chunk;
      if (log.length > 200_000) log = log.slice(-100_000);
      const match = /serving http:\/\/127\.0\.0\.1:(\d+)\//.exec(log);
      if (match && timer) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]), log: () => log });
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited early (code ${code}, signal ${signal}):\n${log}`));
    });
  });
}

export class TestServer {
  /**
   * `args`: more command-line options; `seed`: a data directory to start from (copied);
   * `openRegistration: false` leaves the registration mode to the server's own default;
   * `builtInAssets: true` serves the bundles built into the binary even with MYCHAT_ASSETS_DIR.
   */
  constructor({ args = [], seed = null, openRegistration = true, builtInAssets = false } = {}) {
    this.extraArgs = args;
    this.openRegistration = openRegistration;
    this.builtInAssets = builtInAssets;
    this.dataDir = mkdtempSync(join(tmpdir(), 'mychat-browser-'));
    if (seed) cpSync(seed, this.dataDir, { recursive: true });
    this.port = 0;
    this.child = null;
    this.logText = () => '';
  }

  /** Starts the server (on the same port as before, if it ran already). */
  async start() {
    const { child, port, log } = await launch(`127.0.0.1:${this.port}`, this.dataDir, this.extraArgs, this.openRegistration, this.builtInAssets);
    this.child = child;
    this.port = port;
    this.logText = log;
    return this;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** SIGTERM, and waits for the process to exit. */
  async stop() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.child = null;
    // (The start-up listener that rejects on exit is harmless now: its promise is settled.)
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  /** Stops the server, then starts it again on the same port with the same data. */
  async restart() {
    await this.stop();
    return this.start();
  }

  /** Stops the server and removes its data directory. */
  async dispose() {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** A started server with a fresh data directory (see TestServer for the options). */
export async function startServer(options = {}) {
  return new TestServer(options).start();
}
