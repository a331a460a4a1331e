/**
 * Reading what client-node's `Watch` hands over: events' objects as the API server sent them
 * (plain JSON, nothing checked), and the error it ends with.
 */

export function metadataOf(object: unknown): { name?: string; resourceVersion?: string } {
  const meta = (object as { metadata?: unknown } | null)?.metadata;
  if (typeof meta !== 'object' || meta === null) return {};
  const { name, resourceVersion } = meta as Record<string, unknown>;
  return {
    ...(typeof name === 'string' ? { name } : {}),
    ...(typeof resourceVersion === 'string' ? { resourceVersion } : {}),
  };
}

/** A ConfigMap's `data`, its string values only (a ConfigMap has no others). */
export function dataOf(object: unknown): Record<string, string> {
  const data = (object as { data?: unknown } | null)?.data;
  if (typeof data !== 'object' || data === null) return {};
  return Object.fromEntries(
    Object.entries(data).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
}

/** The `code` of a watch ERROR event's Status. */
export function statusOf(object: unknown): number | undefined {
  const code = (object as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The HTTP status client-node's Watch gives an answer other than 200. */
export function statusCodeOf(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}
