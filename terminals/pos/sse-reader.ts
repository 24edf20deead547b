// Server-Sent Events read from a fetch() body: the device service's /events and the terminal's
// /local/devices/stream. One reader for the terminal, its tests and the bench.

export interface SseEvent {
  /** The event's name (`event:` field); "message" when it has none. */
  event: string;
  /** Its `data:` lines joined with newlines. */
  data: string;
}

/** Yields each complete event of the stream as it arrives; ends with the stream (or its abort). */
export async function* sseEvents(body: ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let cut: number;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const lines = buf.slice(0, cut).split('\n');
      buf = buf.slice(cut + 2);
      const event = lines.find((l) => l.startsWith('event:'))?.slice(6).trim() ?? 'message';
      const data = lines.filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, '')).join('\n');
      if (data) yield { event, data };
    }
  }
}
