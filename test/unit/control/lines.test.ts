import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../../src/control/lines.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('LineSplitter', () => {
  it('splits lines and keeps a partial line for the next chunk', () => {
    const s = new LineSplitter(100);
    expect(s.push(b('{"a":1}\n{"b"'))).toEqual({ lines: ['{"a":1}'], overflow: false });
    expect(s.buffered).toBe(4);
    expect(s.push(b(':2}\n'))).toEqual({ lines: ['{"b":2}'], overflow: false });
    expect(s.buffered).toBe(0);
  });

  it('drops CR of CRLF and skips blank lines', () => {
    const s = new LineSplitter(100);
    expect(s.push(b('one\r\n\n  \r\ntwo\n'))).toEqual({ lines: ['one', 'two'], overflow: false });
  });

  it('joins a multi-byte character split across chunks', () => {
    const s = new LineSplitter(100);
    const text = b('é\n');
    expect(s.push(text.subarray(0, 1)).lines).toEqual([]);
    expect(s.push(text.subarray(1)).lines).toEqual(['é']);
  });

  it('accepts a line of exactly the limit and refuses one byte more', () => {
    expect(new LineSplitter(5).push(b('12345\n'))).toEqual({ lines: ['12345'], overflow: false });
    expect(new LineSplitter(5).push(b('123456\n')).overflow).toBe(true);
  });

  it('overflows on a line that keeps growing without a newline, before it is complete', () => {
    const s = new LineSplitter(10);
    expect(s.push(b('12345')).overflow).toBe(false);
    expect(s.push(b('678901')).overflow).toBe(true);
    expect(s.buffered).toBe(0);
    // Dead after overflow: later input is not parsed.
    expect(s.push(b('ok\n'))).toEqual({ lines: [], overflow: true });
  });

  it('returns the complete lines that preceded an oversize one', () => {
    const s = new LineSplitter(4);
    expect(s.push(b('ab\ncd\nefghij\n'))).toEqual({ lines: ['ab', 'cd'], overflow: true });
  });

  it('copies the partial line so that a reused chunk buffer does not corrupt it', () => {
    const s = new LineSplitter(100);
    const chunk = b('abc');
    s.push(chunk);
    chunk.fill(0x78);
    expect(s.push(b('\n')).lines).toEqual(['abc']);
  });

  it('end() returns an unterminated last line, nothing for blanks or after overflow', () => {
    const s = new LineSplitter(10);
    s.push(b('{"a":1}\n{"b":2}'));
    expect(s.end()).toBe('{"b":2}');
    expect(s.end()).toBeUndefined();
    const blank = new LineSplitter(10);
    blank.push(b('  '));
    expect(blank.end()).toBeUndefined();
    const over = new LineSplitter(2);
    over.push(b('abc'));
    expect(over.end()).toBeUndefined();
  });
});
