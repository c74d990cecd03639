// The Redis connection of a queued experiment, from a URL `redis://[user:password@]HOST:PORT/N`
// (`rediss://` for TLS). Connections never give up: when Redis goes away, commands wait and the client
// reconnects with a capped back-off, so workers and the coordinator ride out a Redis restart instead of
// crashing (BullMQ requires maxRetriesPerRequest: null for exactly this behaviour).
import type { RedisOptions } from 'bullmq';

/** Name of the BullMQ queue that carries the cell jobs (one queue for every experiment; job ids tell them apart). */
export const QUEUE_NAME = 'fairtune-cells';

/** Longest wait between reconnection attempts. */
const MAX_RECONNECT_DELAY_MS = 5000;

export function parseQueueUrl(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue ${JSON.stringify(url)} is not a URL: expected redis://HOST:PORT/N`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new Error(`--queue ${url}: the scheme must be redis:// or rediss://, got ${u.protocol}//`);
  }
  if (u.hostname === '') throw new Error(`--queue ${url}: no host`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbPart = u.pathname.replace(/^\//, '');
  if (dbPart !== '' && !/^\d+$/.test(dbPart)) throw new Error(`--queue ${url}: the database must be a number (redis://HOST:PORT/N), got "${dbPart}"`);
  if (u.search !== '' || u.hash !== '') throw new Error(`--queue ${url}: query strings and fragments are not understood`);
  const opts: RedisOptions = {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    db: dbPart === '' ? 0 : Number(dbPart),
    maxRetriesPerRequest: null,
    // Called after each failed connection attempt: never null (which would stop reconnecting).
    retryStrategy: (times: number) => Math.min(200 * times, MAX_RECONNECT_DELAY_MS),
  };
  if (u.username !== '') opts.username = decodeURIComponent(u.username);
  if (u.password !== '') opts.password = decodeURIComponent(u.password);
  if (u.protocol === 'rediss:') opts.tls = {};
  return opts;
}

/** The URL without its password, for logs. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
