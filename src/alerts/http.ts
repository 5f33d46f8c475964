import { request, type Dispatcher } from 'undici';
import { errorMessage, errnoCode } from '../util/errors.js';
import { VERSION } from '../version.js';
import { parseRetryAfter } from './retry.js';
import type { DeliveryOutcome } from './types.js';

/** How much of an error response body we keep for the log: enough for a reason, bounded for memory. */
const MAX_ERROR_BODY = 2048;

export interface PostOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  signal: AbortSignal;
  now: () => number;
  /** Redacted target for error texts. */
  target: string;
  dispatcher?: Dispatcher;
  /** Look at a 2xx body for errors some services report with status 200 (Teams connectors). */
  inspectOkBody?: (body: string) => DeliveryOutcome | undefined;
}

/**
 * POST and classify the answer: 2xx ok; 408, 429 and 5xx retryable (with Retry-After); other 4xx final, since
 * sending the same request again cannot fix it; network errors and timeouts retryable.
 */
export async function postJson(opts: PostOptions): Promise<DeliveryOutcome> {
  let res: Dispatcher.ResponseData;
  try {
    res = await request(opts.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': `lvskeep/${VERSION}`, ...opts.headers },
      body: opts.body,
      signal: opts.signal,
      ...(opts.dispatcher ? { dispatcher: opts.dispatcher } : {}),
    });
  } catch (err) {
    const code = errnoCode(err);
    const what = opts.signal.aborted ? 'timed out' : `${code ?? 'error'}: ${errorMessage(err)}`;
    return { ok: false, retryable: true, error: `POST ${opts.target}: ${what}` };
  }
  const status = res.statusCode;
  let text: string;
  try {
    text = await readBounded(res.body, MAX_ERROR_BODY);
  } catch (err) {
    text = `<body unreadable: ${errorMessage(err)}>`;
  }
  if (status >= 200 && status < 300) {
    return opts.inspectOkBody?.(text) ?? { ok: true };
  }
  const retryable = status === 408 || status === 429 || status >= 500;
  const retryAfterMs = parseRetryAfter(res.headers['retry-after'], opts.now());
  const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return {
    ok: false,
    retryable,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    error: `POST ${opts.target}: HTTP ${status}${snippet ? `: ${snippet}` : ''}`,
  };
}

/** Read at most `max` bytes of a body, then drop the rest without buffering it. */
async function readBounded(body: Dispatcher.ResponseData['body'], max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    if (size < max) chunks.push(buf.subarray(0, max - size));
    size += buf.length;
    if (size >= max) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}
