/**
 * Splits a byte stream into newline-terminated lines with a hard limit on line length, so a peer that never
 * sends a newline cannot make us buffer without bound. Pure (no sockets); both server and client use it.
 */

export interface SplitResult {
  lines: string[];
  /** A line (complete or still growing) exceeded the limit; the stream cannot be trusted after this. */
  overflow: boolean;
}

export class LineSplitter {
  private parts: Buffer[] = [];
  private pending = 0;
  private overflowed = false;

  /** `maxBytes`: longest line without its newline. */
  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): SplitResult {
    const lines: string[] = [];
    if (this.overflowed) return { lines, overflow: true };
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const piece = chunk.subarray(start, nl);
      if (this.pending + piece.length > this.maxBytes) return this.overflow(lines);
      const whole = this.parts.length === 0 ? piece : Buffer.concat([...this.parts, piece]);
      this.parts = [];
      this.pending = 0;
      const text = whole.toString('utf8').replace(/\r$/, '');
      // Blank lines (a client pressing enter in socat) are not requests.
      if (text.trim() !== '') lines.push(text);
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (rest.length > 0) {
      if (this.pending + rest.length > this.maxBytes) return this.overflow(lines);
      // Copy: the caller may reuse the chunk's memory.
      this.parts.push(Buffer.from(rest));
      this.pending += rest.length;
    }
    return { lines, overflow: false };
  }

  /** The stream ended: what is left is the last line, though it has no newline (printf without \n). */
  end(): string | undefined {
    if (this.overflowed || this.pending === 0) return undefined;
    const text = Buffer.concat(this.parts).toString('utf8').replace(/\r$/, '');
    this.parts = [];
    this.pending = 0;
    return text.trim() === '' ? undefined : text;
  }

  /** Bytes of an unfinished line held. */
  get buffered(): number {
    return this.pending;
  }

  private overflow(lines: string[]): SplitResult {
    this.overflowed = true;
    this.parts = [];
    this.pending = 0;
    return { lines, overflow: true };
  }
}
