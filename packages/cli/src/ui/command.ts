/**
 * `modelstore ui`: starts the server, prints its URL as the first line on stdout, and
 * serves until SIGINT or SIGTERM.
 */
import { spawn } from 'node:child_process';
import type { ModelStore } from '@modelstore/core';
import { isWildcardHost, startUiServer } from './server.js';

export interface UiCommandOptions {
  store: ModelStore;
  storeUri: string | undefined;
  host?: string;
  port: number;
  open: boolean;
  allowWrites: boolean;
  json: boolean;
  stdout: NodeJS.WritableStream;
  note(text: string): void;
}

/** Serves until the process is told to stop; resolves once the server is closed. */
export async function runUiCommand(options: UiCommandOptions): Promise<void> {
  const loopback = options.host === undefined || options.host === '127.0.0.1' || options.host === 'localhost' || options.host === '::1';
  const ui = await startUiServer({ store: options.store, storeUri: options.storeUri, host: options.host ?? '127.0.0.1', port: options.port, allowWrites: options.allowWrites });
  options.stdout.write(options.json ? `${JSON.stringify({ url: ui.url, origin: ui.origin, port: ui.port, allowWrites: options.allowWrites })}\n` : `${ui.url}\n`);
  if (!loopback) {
    const anyone = `anyone who can reach it and learns the token can read the store${options.allowWrites ? ' and change it' : ''}`;
    options.note(
      isWildcardHost(options.host!)
        ? `warning: serving on every address of this machine (${options.host}), not 127.0.0.1 only: ${anyone}. The URL above names 127.0.0.1; from another machine open http://<an address of this machine>:${ui.port}/?token=<the same token> (host names are refused, against DNS rebinding: use an address)`
        : `warning: serving on ${options.host}, not 127.0.0.1: ${anyone}`,
    );
  }
  options.note(`serving ${options.allowWrites ? 'with writes allowed (states, delete)' : 'read-only (--allow-writes to change states and delete)'}; Ctrl-C stops`);
  if (options.open) openBrowser(ui.url, options.note);
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await ui.close();
}

/** Opens `url` with the platform's opener (`open`, `start`, `xdg-open`); says so when it cannot. */
function openBrowser(url: string, note: (text: string) => void): void {
  const [command, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => note(`could not open a browser (${command}): open ${url} yourself`));
    child.unref();
  } catch {
    note(`could not open a browser (${command}): open ${url} yourself`);
  }
}
