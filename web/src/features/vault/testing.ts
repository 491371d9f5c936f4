/** Helpers shared by the vault's tests: random bytes and chunked streams of them. */

/** Random bytes (getRandomValues takes at most 64 KiB at a time). */
export function random(n: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

/** A stream of `data` in uneven pieces, as File.stream() or a network gives them. */
export function streamOf(data: Uint8Array, piece = 10_007): ReadableStream<Uint8Array> {
  let at = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (at >= data.length) return c.close();
      c.enqueue(data.slice(at, at + piece));
      at += piece;
    },
  });
}
