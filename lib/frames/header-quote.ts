/** A refusal quotes this much of a header: a 256 KB value must not come back in the response body. */
const QUOTED_CHARS = 64;

/** A header value for an error message: JSON-quoted, cut to QUOTED_CHARS with its length said. */
export function quoteHeaderValue(value: string | null | undefined): string {
  if (value === null || value === undefined) return 'null';
  return value.length > QUOTED_CHARS ? `${JSON.stringify(value.slice(0, QUOTED_CHARS))}… (${value.length} characters)` : JSON.stringify(value);
}
