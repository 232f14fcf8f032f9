// Helpers of the `modelstore ui` tests: the command as a child process (its first stdout
// line is the URL), Debian's Chromium through playwright-core, and the test-output folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { bin } from './helpers.js';

/** Screenshots and downloads of the ui tests (ignored by git). */
export const outputDir = path.join(__dirname, '..', 'test-output', 'ui');

export const chromiumPath = '/usr/bin/chromium';

/** Debian's Chromium, headless; fails with how to install it when it is missing. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(`${chromiumPath} is missing: the ui tests drive Debian's Chromium. Install it with \`apt-get update && apt-get install -y chromium\` (pnpm test:env does it)`);
  }
  mkdirSync(outputDir, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface UiProcess {
  url: string;
  origin: string;
  token: string;
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<number | null>;
}

/** Starts `modelstore <args>` (a `ui` command) and resolves with the first line it prints (the URL, or `--json`'s document). */
export function startUi(args: string[], options: { cwd: string; env?: Record<string, string> }): Promise<UiProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd, env: { PATH: process.env.PATH ?? '', HOME: options.cwd, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`modelstore ${args.join(' ')} printed no URL in 60 s: ${stderr}`));
    }, 60_000);
    const closed = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    child.stdout.on('data', (data: Buffer) => {
      stdout += data.toString();
      const end = stdout.indexOf('\n');
      if (end === -1) return;
      clearTimeout(timer);
      // The first line: the URL, or with --json a JSON document holding it.
      const url = stdout.slice(0, end);
      const parsed = new URL(url.startsWith('{') ? (JSON.parse(url) as { url: string }).url : url);
      resolve({
        url,
        origin: parsed.origin,
        token: parsed.searchParams.get('token') ?? '',
        child,
        stderr: () => stderr,
        stop: async () => {
          if (child.exitCode === null) child.kill('SIGTERM');
          return closed;
        },
      });
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`modelstore ${args.join(' ')} exited (${code}) before printing a URL: ${stderr}`));
    });
  });
}

/** Calls the API with the token header. */
export async function apiCall(ui: { origin: string; token: string }, route: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const response = await fetch(`${ui.origin}/api/${route}`, { ...init, headers: { 'x-modelstore-token': ui.token, ...(init.headers as Record<string, string>) } });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (an archive)
  }
  return { status: response.status, body };
}

export function sha256File(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}
